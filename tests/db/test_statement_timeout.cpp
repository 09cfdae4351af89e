// test_statement_timeout.cpp: db_statement_timeout_ms ends a slow statement on the server, so a
// slow database fails the request fast (README "Configuration"); the connection serves on.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "app/core/config.h"
#include "app/model/db.h"
#include "app/model/sql.h"

BOOST_AUTO_TEST_SUITE(statement_timeout)

BOOST_AUTO_TEST_CASE(a_statement_past_db_statement_timeout_ms_is_cancelled)
{
    const core::Config saved = core::config();
    core::Config c = saved;
    c.set("db_statement_timeout_ms", std::int64_t{300});
    core::set_config(c);
    model::db_reset();  // the next connection takes the setting
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    try {
        model::Tx tx{model::Tx::read};
        model::exec(tx, "SELECT pg_sleep(5)");
    } catch (const model::Unavailable& e) {
        error = e.what();
    }
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(error == "database timeout", error);
    BOOST_TEST(took < 3.0);  // not the 5 s asked for
    model::ping();           // the same connection serves on
    core::set_config(saved);
    model::db_reset();
}

BOOST_AUTO_TEST_SUITE_END()
