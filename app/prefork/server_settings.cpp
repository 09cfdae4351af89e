// server_settings.cpp: see server_settings.h.
#include "app/prefork/server_settings.h"

#include <climits>

#include "app/prefork/stats.h"

namespace core {

std::vector<Key> ServerSettings::keys()
{
    return {Key::text("listen", ""), Key::integer("max_body_bytes", 1048576, 0, INT_MAX),
            Key::text("metrics_listen", "127.0.0.1:9117"), Key::text("test_crash_file", "")};
}

ServerSettings ServerSettings::from(const Config& c)
{
    ServerSettings s{c.str("listen"), static_cast<std::size_t>(c.integer("max_body_bytes")),
                     c.str("metrics_listen"), c.flag("test_mode") ? c.str("test_crash_file") : ""};
    require_local("metrics_listen", s.metrics_listen);
    return s;
}

}  // namespace core
