// test_api_server.cpp: the running server as a whole: a killed worker is respawned and the next
// requests are served; the request log masks secrets and marks errors.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http.h"
#include "tests/api/instance.h"

namespace {

pid_t master_pid()
{
    std::ifstream in(test::stack_run_dir() + "/server.pid");
    pid_t pid = 0;
    in >> pid;
    BOOST_REQUIRE_MESSAGE(pid > 0, "no server pid file; run through deploy/local.sh test");
    return pid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_server)

BOOST_AUTO_TEST_CASE(killed_worker_is_respawned_and_requests_go_on)
{
    const pid_t master = master_pid();
    const auto before = test::children_of(master);
    BOOST_REQUIRE(!before.empty());
    const pid_t victim = *before.begin();
    BOOST_REQUIRE(kill(victim, SIGKILL) == 0);
    // kill() returns before the process is gone; a connection it accepts meanwhile would be its
    // own in-flight request. Wait until it is dead (gone or a zombie) before sending traffic.
    for (int i = 0; i < 100 && test::children_of(master).count(victim); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

    for (int i = 0; i < 20; ++i)
        BOOST_TEST(test::get("/api/list").status == 200);

    std::set<pid_t> after;
    for (int i = 0; i < 50; ++i) {  // respawn is immediate; allow the master its one-second tick
        after = test::children_of(master);
        if (after.size() == before.size() && !after.count(victim))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    BOOST_TEST(after.size() == before.size());
    BOOST_TEST(!after.count(victim));
    BOOST_TEST(test::get("/apitest/counter").status == 200);
}

BOOST_AUTO_TEST_CASE(request_log_masks_secrets_and_marks_errors)
{
    const std::string log_file = test::env_or("APP_LOG_FILE", "");
    BOOST_REQUIRE_MESSAGE(!log_file.empty(), "APP_LOG_FILE is not set");
    // A marker of this run, so only this test's requests can have written the lines it looks for.
    const std::string mark = "m" + std::to_string(getpid()) + "x" + std::to_string(time(nullptr));
    const std::string secret = "Sekret" + mark + "Pw1";
    test::get("/api/movies/?search=" + mark + "&password=" + secret);
    test::http("POST", "/apitest/sleep?ms=1",
               R"({"pwd": ")" + secret + R"(", "note": ")" + mark + R"("})",
               {{"Content-Type", "application/json"}});
    test::get("/api/nothing-" + mark);

    const std::vector<std::string> wanted = {
        R"(INFO  anon@127.0.0.1 api_movies.cpp GET /api/movies/ {"search":")" + mark +
            R"(","password":"X"} -> 200)",
        R"({"pwd":"X","note":")" + mark + R"("})",
        "ERROR anon@127.0.0.1 - GET /api/nothing-" + mark + " -> 404",
    };
    std::string log;
    BOOST_TEST(test::poll_until(
        [&] {
            log = test::read_text(log_file);
            return std::all_of(wanted.begin(), wanted.end(),
                               [&](const auto& w) { return log.find(w) != std::string::npos; });
        },
        5));
    for (const auto& w : wanted)
        BOOST_TEST(log.find(w) != std::string::npos, w);
    BOOST_TEST(log.find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
