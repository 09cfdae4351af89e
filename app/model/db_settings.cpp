// db_settings.cpp: see db_settings.h.
#include "app/model/db_settings.h"

#include <climits>

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
            Key::text("migrations_dir", "migrations")};
}

DbSettings DbSettings::from(const core::Config& c)
{
    return {c.str("db_host"),
            static_cast<int>(c.integer("db_port")),
            c.str("db_name"),
            c.str("db_user"),
            c.str("db_password"),
            static_cast<int>(c.integer("db_connect_timeout_s")),
            static_cast<int>(c.integer("db_statement_timeout_ms")),
            c.str("migrations_dir")};
}

}  // namespace model
