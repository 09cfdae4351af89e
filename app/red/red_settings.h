// red_settings.h: the Redis keys (redis_*).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "app/core/settings.h"

namespace red {

struct RedisSettings {
    std::string host;        // redis_host; a path: its unix socket; "": from the Sentinels
    int port;                // redis_port
    std::string password;    // redis_password; "": no AUTH
    int connect_timeout_ms;  // redis_connect_timeout_ms: a dead Redis fails fast
    int timeout_ms;          // redis_timeout_ms: a slower command counts as a dead Redis
    // redis_sentinels ("host:port" each): when given, the master is whichever they name for
    // redis_master_name, and redis_host/redis_port are not used.
    std::vector<std::pair<std::string, int>> sentinels;
    std::string master_name;  // redis_master_name
    static std::vector<core::Key> keys();
    // ConfigError naming the key on a sentinel that is no host:port.
    static RedisSettings from(const core::Config& c);
};

}  // namespace red
