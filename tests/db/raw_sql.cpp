// raw_sql.cpp: see raw_sql.h.
#include "tests/db/raw_sql.h"

#include "app/model/sql.h"

namespace test {

std::vector<std::string> sql_row(const std::string& sql, const std::vector<std::string>& params)
{
    pqxx::work tx{model::db()};
    const auto res = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    tx.commit();
    std::vector<std::string> out;
    if (!res.empty())
        for (const auto& f : res[0])
            out.push_back(f.is_null() ? std::string() : f.as<std::string>());
    return out;
}

}  // namespace test
