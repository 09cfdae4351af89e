// raw_sql.h: SQL that a test runs from outside the model (a row count, pg_terminate_backend), on
// the test process's connection. Lives in tests/db with the other users of libpqxx; the api suite
// links it too.
#pragma once
#include <string>
#include <vector>

namespace test {

// Runs one statement with text parameters ($1, $2, ...) in its own transaction and returns the
// first row's fields as text ("" for NULL); no row: an empty vector.
std::vector<std::string> sql_row(const std::string& sql,
                                 const std::vector<std::string>& params = {});

}  // namespace test
