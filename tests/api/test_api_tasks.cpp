// test_api_tasks.cpp: a background task spooled by a request runs in the stack's spooler (started
// by deploy/local.sh test) and logs its line to the shared log.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/api/http.h"

BOOST_AUTO_TEST_SUITE(api_tasks)

BOOST_AUTO_TEST_CASE(sendemail_spools_a_task_that_the_spooler_runs)
{
    const std::string log_file = test::env_or("APP_LOG_FILE", "");
    BOOST_REQUIRE_MESSAGE(!log_file.empty(), "APP_LOG_FILE is not set");
    const auto r = test::get("/apitest/sendemail");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == R"({"reply":"background task will start"})");

    // send_email takes 3 s; then its line, in the request log's format, names the spooler process.
    const std::string done = R"(spool_jobs.cpp TASK send_email:)";
    bool found = false;
    for (int i = 0; i < 150 && !found; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::ifstream in(log_file);
        for (std::string line; std::getline(in, line);)
            if (line.find(done) != std::string::npos && line.find(" -> ok ") != std::string::npos &&
                line.find("INFO  spool") != std::string::npos &&
                line.find("@- ") != std::string::npos)
                found = true;
    }
    BOOST_TEST(found, "no send_email line in " << log_file << " within 15 s");
}

BOOST_AUTO_TEST_SUITE_END()
