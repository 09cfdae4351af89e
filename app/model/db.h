// db.h: the process's one PostgreSQL connection (opened lazily, after any fork), the SQL helper
// every statement goes through, and small helpers the model and the API share.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <pqxx/pqxx>

#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/model/db_settings.h"

namespace model {

// A failed connect: a 503 for clients ("database unavailable"); reason holds libpq's words for
// the log and for command-line tools such as migrate.
struct DbUnavailable : core::Unavailable {
    std::string reason;
    explicit DbUnavailable(std::string why)
        : core::Unavailable("database unavailable"), reason(std::move(why))
    {
    }
};

// The libpq conninfo for the db_* settings, values quoted. extra_options are appended to the
// server options (e.g. "-c search_path=x"), after the statement timeout.
std::string conninfo(const DbSettings& s, const std::string& extra_options = "");

// The connection of this process, opened on first use and reopened when it is found closed.
// Throws DbUnavailable (a core::Unavailable) when the server cannot be reached.
pqxx::connection_base& db();

// Between requests: drops the connection when the server closed it while it sat idle (a
// restart, a failover, pg_terminate_backend: its farewell message or the end of the stream is
// waiting on the socket), so the next request, a write too, starts on a fresh one instead of
// failing with 503. One non-blocking peek at the socket; never call it inside a transaction.
void drop_if_closed();
// Drops the connection; the next db() reconnects. The dispatcher calls it after catching
// pqxx::broken_connection, so the next request gets a fresh socket.
void db_reset();

// Opens a connection that is not the process's one (tools, tests). Throws DbUnavailable.
std::unique_ptr<pqxx::connection> connect(const std::string& conninfo);

namespace detail {
void log_statement(const std::string& sql);
}

// Runs one statement with $n parameters. With core::log_sql() on, the statement (never its
// parameter values, which may be secrets) is logged at INFO on logger "sql".
namespace detail {
// Defines `sql` as a prepared statement on tx's connection (libpqxx prepares it on the server at
// first use) and returns its name, derived from the text; nullptr for statements PostgreSQL cannot
// prepare (TRUNCATE, SET, DDL), which run unprepared.
const std::string* prepared_name(pqxx::transaction_base& tx, const std::string& sql);
}  // namespace detail

// Runs one statement with $n parameters, as a prepared statement: the server parses and plans
// each statement once per connection, not once per request. With core::log_sql() on, the
// statement (never its parameter values, which may be secrets) is logged at INFO on logger "sql".
template <typename... Args>
pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args)
{
    if (core::log_sql())
        detail::log_statement(sql);
    if (const std::string* name = detail::prepared_name(tx, sql))
        return tx.exec_prepared(*name, std::forward<Args>(args)...);
    return tx.exec_params(sql, std::forward<Args>(args)...);
}

// Empties every app table and restarts the id sequences; schema_migrations is kept.
void truncate_all(pqxx::transaction_base& tx);

// True for the canonical 8-4-4-4-12 hex uuid text. Check ids before they reach SQL, so a
// malformed id is a 404 and never a SQL error.
bool is_uuid(std::string_view s);

// A LIKE pattern matching s anywhere, with %, _ and \ in s taken literally (use ESCAPE '\').
std::string like_contains(std::string_view s);

// The SQL expression for a timestamptz column as ISO 8601 UTC text without zone.
#define MODEL_ISO_UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"

}  // namespace model
