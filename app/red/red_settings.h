// red_settings.h: the Redis keys (redis_*).
#pragma once
#include <string>
#include <vector>

#include "app/core/settings.h"

namespace red {

struct RedisSettings {
    std::string host;        // redis_host; a path: its unix socket
    int port;                // redis_port
    std::string password;    // redis_password; "": no AUTH
    int connect_timeout_ms;  // redis_connect_timeout_ms: a dead Redis fails fast
    int timeout_ms;          // redis_timeout_ms: a slower command counts as a dead Redis
    static std::vector<core::Key> keys();
    static RedisSettings from(const core::Config& c);
};

}  // namespace red
