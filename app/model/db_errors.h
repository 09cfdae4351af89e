// db_errors.h: what the model throws when the database fails, in place of libpqxx's exceptions,
// which never leave app/model. Anything else the database refuses is a bug: a std::exception
// that the dispatcher turns into a 500 with the reason in the log.
#pragma once
#include <exception>
#include <stdexcept>
#include <string>

#include "app/core/errors.h"

namespace model {

// The database cannot serve now: a 503 whose message is what(), "database unavailable" (down,
// unreachable, connection lost), "database timeout" (statement_timeout, before harakiri) or
// "database connection lost during commit". reason holds libpq's words for the log and for
// command-line tools such as migrate.
struct Unavailable : core::Unavailable {
    std::string reason;
    bool retry_read;  // the connection was found broken: nothing ran, a read may run again
    Unavailable(const std::string& message, std::string why, bool retry = false)
        : core::Unavailable(message), reason(std::move(why)), retry_read(retry)
    {
    }
};

// A user's email already taken, in any case (the unique index on lower(email)); it aborts the
// transaction.
struct EmailTaken : std::runtime_error {
    explicit EmailTaken(const std::string& email) : std::runtime_error("email taken: " + email) {}
};

// For the dispatcher: true when e is a connection found broken, e.g. after a database restart.
// The next db() replaces the connection, so the read runs again on a fresh one.
bool retry_read_after_db_error(const std::exception& e);

}  // namespace model
