// db_settings.cpp: see db_settings.h.
#include "app/model/db_settings.h"

#include <climits>

#include "app/core/errors.h"

namespace model {

std::vector<core::Key> DbSettings::keys()
{
    using core::Key;
    // Where the data lives has no sensible default: a config must say which database it means.
    return {Key::required_text("db_host"),
            Key::integer("db_port", 5432, 1, 65535),
            Key::required_text("db_name"),
            Key::required_text("db_user"),
            Key::text("db_password", ""),
            Key::integer("db_connect_timeout_s", 3, 1, 3600),  // 0 would mean: wait forever
            Key::integer("db_statement_timeout_ms", 15000, 0, INT_MAX),
            Key::integer("db_dead_host_s", 5, 2, 3600),
            Key::text("migrations_dir", "migrations")};
}

namespace {

// "a, b,c" as "a,b,c"; ConfigError on an empty entry ("a,,b"), which libpq would take as its
// default host.
std::string host_list(const std::string& text)
{
    std::string out, host;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != ',') {
            if (text[i] != ' ')
                host += text[i];
            continue;
        }
        if (host.empty())
            throw core::ConfigError("config key db_host: an empty host in the list \"" + text +
                                    "\"");
        out += (out.empty() ? "" : ",") + host;
        host.clear();
    }
    return out;
}

}  // namespace

DbSettings DbSettings::from(const core::Config& c)
{
    const std::string host = c.str("db_host");
    return {host.find(',') == std::string::npos ? host : host_list(host),
            static_cast<int>(c.integer("db_port")),
            c.str("db_name"),
            c.str("db_user"),
            c.str("db_password"),
            static_cast<int>(c.integer("db_connect_timeout_s")),
            static_cast<int>(c.integer("db_statement_timeout_ms")),
            static_cast<int>(c.integer("db_dead_host_s")),
            c.str("migrations_dir")};
}

}  // namespace model
