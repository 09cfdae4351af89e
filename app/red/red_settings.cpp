// red_settings.cpp: see red_settings.h.
#include "app/red/red_settings.h"

namespace red {

std::vector<core::Key> RedisSettings::keys()
{
    using core::Key;
    // The timeouts are > 0: zero would mean "wait forever" to the socket, which a worker must
    // never do.
    return {Key::required_text("redis_host"), Key::integer("redis_port", 6379, 1, 65535),
            Key::text("redis_password", ""),
            Key::integer("redis_connect_timeout_ms", 1000, 1, 3600000),
            Key::integer("redis_timeout_ms", 2000, 1, 3600000)};
}

RedisSettings RedisSettings::from(const core::Config& c)
{
    return {c.str("redis_host"), static_cast<int>(c.integer("redis_port")), c.str("redis_password"),
            static_cast<int>(c.integer("redis_connect_timeout_ms")),
            static_cast<int>(c.integer("redis_timeout_ms"))};
}

}  // namespace red
