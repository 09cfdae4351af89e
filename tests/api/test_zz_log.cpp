// test_zz_log.cpp: runs last (files link in name order): reads the server's log after every
// other API test has run. No line holds a test password; the account events are there, with
// the user agent and the user id.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/api/accounts.h"

using namespace test;

namespace {

std::vector<std::string> log_lines()
{
    const auto file = env_or("APP_LOG_FILE", "");
    BOOST_REQUIRE_MESSAGE(!file.empty(), "APP_LOG_FILE is not set");
    std::ifstream in(file);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(zz_log)

BOOST_AUTO_TEST_CASE(account_events_are_logged_with_agent_and_user_id)
{
    // One more of each, so this case stands on its own too.
    const auto a = make_account("editor", "logged");
    const auto sid = session_id(login(a.email, a.password, "", {{"User-Agent", "LogCheck/2.0"}}));
    with_session(sid, "GET", "/api/me");
    post_json("/api/signup", R"({"email":")" + unique_email("logged") + R"(","password":")" +
                                 password("logged") + R"(","fname":"L","lname":"G"})");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto lines = log_lines();
    const std::regex login_ok(" " + a.id + "@127\\.0\\.0\\.1 LOGIN OK agent=LogCheck/2\\.0$");
    const std::regex signup_ok("[0-9a-f-]{36}@127\\.0\\.0\\.1 SIGNUP OK agent=restpie-api-tests$");
    const std::regex me_line(" " + a.id + "@127\\.0\\.0\\.1 api_account\\.cpp GET /api/me -> 200 ");
    const std::regex created("[0-9a-f-]{36}@127\\.0\\.0\\.1 movie created id=");
    bool has_login = false, has_signup = false, has_me = false, has_created = false, anon_created = false;
    for (const auto& l : lines) {
        has_login = has_login || std::regex_search(l, login_ok);
        has_signup = has_signup || std::regex_search(l, signup_ok);
        has_me = has_me || std::regex_search(l, me_line);
        has_created = has_created || std::regex_search(l, created);
        anon_created = anon_created || (l.find("anon@") != std::string::npos &&
                                        l.find("movie created") != std::string::npos);
    }
    BOOST_TEST(has_login);
    BOOST_TEST(has_signup);
    BOOST_TEST(has_me);
    BOOST_TEST(has_created);  // a handler's own line carries the user id too
    BOOST_TEST(!anon_created);
}

BOOST_AUTO_TEST_CASE(no_log_line_holds_a_test_password)
{
    const auto lines = log_lines();
    BOOST_TEST(lines.size() > 100u);  // the other tests did write to this log
    std::size_t logins = 0;
    for (const auto& l : lines) {
        BOOST_TEST(l.find(kPasswordMark) == std::string::npos, "password in the log: " << l);
        logins += l.find("POST /api/login") != std::string::npos;
    }
    BOOST_TEST(logins > 20u);  // the logins with those passwords were logged, masked
}

BOOST_AUTO_TEST_SUITE_END()
