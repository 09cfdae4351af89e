// db_errors.cpp: which database failures a client sees as "try again later".
#include "app/model/db_errors.h"

#include <pqxx/pqxx>

#include "app/model/db.h"

namespace model {

std::optional<core::HttpError> translate_db_error(const std::exception& e)
{
    if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
        db_reset();
        return core::Unavailable("database unavailable");
    }
    if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
        if (sql->sqlstate() == "57014")  // statement_timeout: give up before harakiri does
            return core::Unavailable("database timeout");
        if (dynamic_cast<const pqxx::too_many_connections*>(&e))
            return core::Unavailable("database busy");
    }
    if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
        db_reset();
        return core::Unavailable("database connection lost during commit");
    }
    return std::nullopt;
}

bool retry_read_after_db_error(const std::exception& e)
{
    if (!dynamic_cast<const pqxx::broken_connection*>(&e))
        return false;
    db_reset();
    return true;
}

}  // namespace model
