// test_api_server.cpp: the running server as a whole: a killed worker is respawned and the next
// requests are served; the request log masks secrets and marks errors.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

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
    const std::string secret = "Sekret" + std::to_string(getpid()) + "Pw1";
    test::get("/api/movies/?search=zz&password=" + secret);
    test::http("POST", "/apitest/dbtruncate", R"({"pwd": ")" + secret + R"(", "note": "keep me"})",
               {{"Content-Type", "application/json"}});
    test::get("/api/nothing-" + secret.substr(0, 6));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    const auto log = test::read_text(log_file);
    BOOST_TEST(log.find(secret) == std::string::npos);
    BOOST_TEST(log.find(R"(GET /api/movies/ {"search":"zz","password":"X"} -> 200)") != std::string::npos);
    BOOST_TEST(log.find(R"("pwd":"X","note":"keep me")") != std::string::npos);
    BOOST_TEST(log.find("ERROR anon@127.0.0.1 - GET /api/nothing-" + secret.substr(0, 6)) != std::string::npos);
    BOOST_TEST(log.find("INFO  anon@127.0.0.1 api_movies.cpp GET /api/movies/") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
