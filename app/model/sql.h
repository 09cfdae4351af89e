// sql.h: libpqxx behind db.h, for app/model's own .cpp files and the tests of this layer
// (tests/db) only: everything else sees model types and model errors.
#pragma once
#include <memory>
#include <string>
#include <utility>

#include <pqxx/pqxx>

#include "app/core/log.h"
#include "app/model/db.h"

namespace model {

class Connection : public pqxx::connection {
public:
    explicit Connection(const std::string& conninfo) : pqxx::connection(conninfo) {}
};

struct Tx::Impl {
    std::unique_ptr<pqxx::transaction_base> tx;
};

inline pqxx::transaction_base& pq(Tx& tx)
{
    return *tx.impl().tx;
}

namespace detail {
void log_statement(const std::string& sql);

// Defines `sql` as a prepared statement on tx's connection (libpqxx prepares it on the server at
// first use) and returns its name, derived from the text; nullptr for statements PostgreSQL cannot
// prepare (TRUNCATE, SET, DDL), which run unprepared.
const std::string* prepared_name(pqxx::transaction_base& tx, const std::string& sql);

// Called in a catch block for a pqxx::failure on connection c: throws it again as Unavailable
// when the connection is lost (then the process's connection is replaced at its next use) or a
// statement timed out; else rethrows it as it is.
[[noreturn]] void rethrow_db_error(const pqxx::connection_base& c);
}  // namespace detail

// Runs one statement with $n parameters, as a prepared statement: the server parses and plans
// each statement once per connection, not once per request. With core::log_sql() on, the
// statement (never its parameter values, which may be secrets) is logged at INFO on logger "sql".
template <typename... Args>
pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, Args&&... args)
{
    if (core::log_sql())
        detail::log_statement(sql);
    try {
        if (const std::string* name = detail::prepared_name(tx, sql))
            return tx.exec_prepared(*name, std::forward<Args>(args)...);
        return tx.exec_params(sql, std::forward<Args>(args)...);
    } catch (const pqxx::failure&) {
        detail::rethrow_db_error(tx.conn());
    }
}

template <typename... Args>
pqxx::result exec(Tx& tx, const std::string& sql, Args&&... args)
{
    return exec(pq(tx), sql, std::forward<Args>(args)...);
}

// A timestamptz column as a UTC time without zone, which iso_utc() reads. (PostgreSQL's to_char
// formats it as well, but costs the server more than the rest of the row: docs/design.md, "What
// a request costs".)
#define MODEL_UTC(col) "(" col " AT TIME ZONE 'UTC')"

// A MODEL_UTC column as the API gives times: ISO 8601 to the second, "2026-12-02T09:59:32".
std::string iso_utc(const pqxx::field& f);

}  // namespace model
