// db.h: the process's one PostgreSQL connection (opened lazily, after any fork), transactions on
// it, and small helpers the model and the API share. No libpqxx type crosses this header: the
// model's own .cpp files reach them through sql.h.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "app/model/db_errors.h"
#include "app/model/db_settings.h"

namespace model {

// A PostgreSQL connection. Defined in sql.h: callers only pass it on (tools, tests).
class Connection;

// The libpq conninfo for the db_* settings, values quoted. extra_options are appended to the
// server options (e.g. "-c search_path=x"), after the statement timeout.
std::string conninfo(const DbSettings& s, const std::string& extra_options = "");

// The connection of this process, opened on first use and reopened when it is found closed or
// was lost. Throws Unavailable when the server cannot be reached.
Connection& db();

// Between requests: drops the connection when the server closed it while it sat idle (a
// restart, a failover, pg_terminate_backend: its farewell message or the end of the stream is
// waiting on the socket), so the next request, a write too, starts on a fresh one instead of
// failing with 503. One non-blocking peek at the socket; never call it inside a transaction.
void drop_if_closed();
// Drops the connection; the next db() reconnects.
void db_reset();

// Opens a connection that is not the process's one (tools, tests). Throws Unavailable.
std::unique_ptr<Connection> connect(const std::string& conninfo);

// A unit of work on a connection (the process's unless given). Model calls take one, so that
// several can share it; the caller decides its extent.
// - Tx::write: BEGIN ... COMMIT; without commit() the destructor rolls back.
// - Tx::read: no BEGIN/COMMIT round trips, each statement commits on its own: for a read of one
//   statement.
// Lost connections, timeouts and the like throw Unavailable (db_errors.h).
class Tx {
public:
    enum Mode { write, read };
    explicit Tx(Mode mode = write);
    Tx(Connection& c, Mode mode = write);
    ~Tx();
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

    void commit();  // a no-op for Tx::read

    struct Impl;  // the libpqxx transaction, in sql.h
    Impl& impl() { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

// SELECT 1 on the process's connection: throws Unavailable when the database cannot answer.
void ping();

// Empties every app table and restarts the id sequences; schema_migrations is kept.
void truncate_all(Tx& tx);

// True for the canonical 8-4-4-4-12 hex uuid text. Check ids before they reach SQL, so a
// malformed id is a 404 and never a SQL error.
bool is_uuid(std::string_view s);

// A LIKE pattern matching s anywhere, with %, _ and \ in s taken literally (use ESCAPE '\').
std::string like_contains(std::string_view s);

}  // namespace model
