// db_errors.h: libpqxx exceptions as HTTP errors, for the dispatcher (core knows no pqxx).
#pragma once
#include <exception>
#include <optional>

#include "app/core/errors.h"

namespace model {

// broken_connection: 503 and the connection is dropped, so the next request reconnects;
// a statement timeout: 503; anything else: nullopt (a 500 with the reason in the log).
std::optional<core::HttpError> translate_db_error(const std::exception& e);

// True (and the connection dropped) when e is a connection found broken, e.g. after a database
// restart: nothing was done, so a read can run again on a fresh connection.
bool retry_read_after_db_error(const std::exception& e);

}  // namespace model
