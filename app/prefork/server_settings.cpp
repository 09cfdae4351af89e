// server_settings.cpp: see server_settings.h.
#include "app/prefork/server_settings.h"

#include <climits>

#include "app/core/errors.h"
#include "app/prefork/listen.h"
#include "app/prefork/stats.h"

namespace core {

std::vector<Key> ServerSettings::keys()
{
    return {Key::text("listen", ""),
            Key::integer("max_body_bytes", 1048576, 0, INT_MAX),
            Key::text("metrics_listen", "127.0.0.1:9117"),
            Key::text("test_crash_file", ""),
            Key::list("fcgi_web_server_addrs", {}),
            Key::flag("worker_batch_scheduling", true)};
}

ServerSettings ServerSettings::from(const Config& c)
{
    ServerSettings s{c.str("listen"),
                     static_cast<std::size_t>(c.integer("max_body_bytes")),
                     c.str("metrics_listen"),
                     c.flag("test_mode") ? c.str("test_crash_file") : "",
                     {},
                     c.flag("worker_batch_scheduling")};
    require_local("metrics_listen", s.metrics_listen);
    for (const auto& a : c.list("fcgi_web_server_addrs")) {
        s.web_servers.push_back(canonical_ip(a));
        if (s.web_servers.back().empty())
            throw ConfigError("config key fcgi_web_server_addrs: \"" + a +
                              "\" is not an IPv4 or IPv6 address");
    }
    return s;
}

}  // namespace core
