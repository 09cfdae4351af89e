// red_settings.cpp: see red_settings.h.
#include "app/red/red_settings.h"

#include <cstdlib>

#include "app/core/errors.h"

namespace red {

std::vector<core::Key> RedisSettings::keys()
{
    using core::Key;
    // The timeouts are > 0: zero would mean "wait forever" to the socket, which a worker must
    // never do.
    return {Key::required_text("redis_host", "redis_sentinels"),
            Key::integer("redis_port", 6379, 1, 65535),
            Key::text("redis_password", ""),
            Key::integer("redis_connect_timeout_ms", 1000, 1, 3600000),
            Key::integer("redis_timeout_ms", 2000, 1, 3600000),
            Key::list("redis_sentinels", {}),
            Key::text("redis_master_name", "restpie")};
}

RedisSettings RedisSettings::from(const core::Config& c)
{
    RedisSettings s{c.str("redis_host"),
                    static_cast<int>(c.integer("redis_port")),
                    c.str("redis_password"),
                    static_cast<int>(c.integer("redis_connect_timeout_ms")),
                    static_cast<int>(c.integer("redis_timeout_ms")),
                    {},
                    c.str("redis_master_name")};
    for (const auto& spec : c.list("redis_sentinels")) {
        const auto colon = spec.rfind(':');
        char* end = nullptr;
        const long port = colon == std::string::npos ? 0 : std::strtol(&spec[colon + 1], &end, 10);
        if (colon == 0 || port < 1 || port > 65535 || !end || *end)
            throw core::ConfigError("config key redis_sentinels: \"" + spec +
                                    "\" is not host:port");
        s.sentinels.emplace_back(spec.substr(0, colon), static_cast<int>(port));
    }
    if (s.host.empty() && s.sentinels.empty())
        throw core::ConfigError(
            "config key redis_host is missing (it has no default; or list "
            "redis_sentinels)");
    if (!s.sentinels.empty() && s.master_name.empty())
        throw core::ConfigError("config key redis_master_name is empty: the Sentinels need it");
    return s;
}

}  // namespace red
