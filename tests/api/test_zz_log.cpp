// test_zz_log.cpp: the server's log holds the account events of this test's own requests, with
// the user agent and the user id, and no line of the whole log (every earlier test's included)
// holds a test password. Each case makes its own users and looks for lines that only its own
// requests can have written, polling for them: the access line is written after the reply.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <regex>

#include <rapidjson/document.h>

#include "tests/api/accounts.h"
#include "tests/support.h"

using namespace test;

namespace {

std::string log_text()
{
    const auto file = env_or("APP_LOG_FILE", "");
    BOOST_REQUIRE_MESSAGE(!file.empty(), "APP_LOG_FILE is not set");
    return read_text(file);
}

// True once every pattern matches some line of the log, within 5 s.
bool log_has_all(const std::vector<std::regex>& patterns)
{
    return poll_until(
        [&] {
            const auto log = log_text();
            for (const auto& p : patterns)
                if (!std::regex_search(log, p))
                    return false;
            return true;
        },
        5);
}

std::string id_of(const HttpReply& r)
{
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    BOOST_REQUIRE_MESSAGE((d.IsObject() && d.HasMember("id") && d["id"].IsString()), r.body);
    return d["id"].GetString();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(zz_log)

BOOST_AUTO_TEST_CASE(account_events_are_logged_with_agent_and_user_id)
{
    clear_login_throttle();  // the local IP's counters, which earlier tests fill
    const auto a = make_account("editor", "logged");
    const auto sid = session_id(login(a.email, a.password, "", {{"User-Agent", "LogCheck/2.0"}}));
    BOOST_REQUIRE(!sid.empty());
    BOOST_REQUIRE(with_session(sid, "GET", "/api/me").status == 200);
    const auto movie =
        with_session(sid, "POST", "/api/movies/", R"({"title":"Logged","director":"L. Og"})");
    BOOST_REQUIRE(movie.status == 201);
    const auto signup =
        post_json("/api/signup", R"({"email":")" + unique_email("logged") + R"(","password":")" +
                                     password("logged") + R"(","fname":"L","lname":"G"})");
    BOOST_REQUIRE(signup.status == 201);
    const std::string at = "@127\\.0\\.0\\.1 ";
    BOOST_TEST(log_has_all({
        std::regex(" " + a.id + at + "LOGIN OK agent=LogCheck/2\\.0\n"),
        std::regex(" " + id_of(signup) + at + "SIGNUP OK agent=restpie-api-tests\n"),
        std::regex(" " + a.id + at + "api_account\\.cpp GET /api/me -> 200 "),
        // a handler's own line carries the user id too
        std::regex(" " + a.id + at + "movie created id=" + id_of(movie) + "\\b"),
    }));
    BOOST_TEST(!std::regex_search(log_text(), std::regex("anon@[^\n]*movie created")));
}

BOOST_AUTO_TEST_CASE(no_log_line_holds_a_test_password)
{
    clear_login_throttle();
    const auto a = make_account("readonly", "nopw");
    BOOST_REQUIRE(login(a.email, a.password).status == 200);
    BOOST_REQUIRE(login(a.email, password("wrong")).status == 400);
    // This case's own logins are in the log, masked...
    const std::string login_line =
        "POST /api/login \\{\"email\":\"" + a.email + "\",\"password\":\"X\"\\}";
    BOOST_TEST(
        log_has_all({std::regex(login_line + " -> 200 "), std::regex(login_line + " -> 400 ")}));
    // ... and no line from any test of this run or an earlier one holds a password in clear.
    const auto log = log_text();
    const auto at = log.find(kPasswordMark);
    const auto near =
        at == std::string::npos ? "" : log.substr(at - std::min<std::size_t>(at, 200), 300);
    BOOST_TEST(at == std::string::npos, "a password in the log: " << near);
}

BOOST_AUTO_TEST_SUITE_END()
