// test_api_tasks.cpp: a background task spooled by a request runs in the stack's spooler (started
// by deploy/local.sh test) and logs its line to the shared log.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/api/accounts.h"
#include "tests/api/http.h"
#include "tests/support.h"

namespace {

// Finished send_email lines in the log that hold `marker`; the line has the request log's format
// and names the spooler process.
int send_email_lines(const std::string& marker)
{
    const std::string log_file = test::env_or("APP_LOG_FILE", "");
    BOOST_REQUIRE_MESSAGE(!log_file.empty(), "APP_LOG_FILE is not set");
    std::ifstream in(log_file);
    int n = 0;
    for (std::string line; std::getline(in, line);)
        n += line.find("spool_jobs.cpp TASK send_email:") != std::string::npos &&
             line.find(" -> ok ") != std::string::npos &&
             line.find("INFO  spool") != std::string::npos &&
             line.find("@- ") != std::string::npos && line.find(marker) != std::string::npos;
    return n;
}

// Waits up to 15 s (send_email takes 3 s) for one more such line than `before`.
bool send_email_ran(const std::string& marker, int before)
{
    for (int i = 0; i < 150; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (send_email_lines(marker) > before)
            return true;
    }
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_tasks)

BOOST_AUTO_TEST_CASE(sendemail_spools_a_task_that_the_spooler_runs)
{
    const int before = send_email_lines("Hello world!");
    const auto r = test::get("/apitest/sendemail");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == R"({"reply":"background task will start"})");
    BOOST_TEST(send_email_ran("Hello world!", before),
               "no new send_email line in the log within 15 s");
}

BOOST_AUTO_TEST_CASE(password_forgot_spools_the_reset_mail)
{
    const auto email = test::make_account("editor", "spool").email;
    const auto t = test::open_form("/auth/forgot");
    const auto r = test::http("POST", "/auth/postform",
                              "mode=forgot&email=" + email + "&csrf_token=" + t.field,
                              {{"Content-Type", "application/x-www-form-urlencoded"},
                               {"Cookie", "csrf_token=" + t.cookie}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(send_email_ran(email, 0), "no send_email line for " << email << " within 15 s");
}

BOOST_AUTO_TEST_CASE(admin_spool_queues_a_registered_task_for_later)
{
    const std::string dir = test::env_or("APP_SPOOL_DIR", "");
    BOOST_REQUIRE_MESSAGE(!dir.empty(), "APP_SPOOL_DIR is not set");
    const auto out = test::command_output(std::string(ADMIN_BIN) +
                                          R"( spool send_email '{"to":"admin-spool@example.com",)"
                                          R"("subject":"by hand","body":"b"}' --in 3600)");
    std::string path = out.substr(0, out.find('\n'));
    BOOST_TEST(path.rfind(dir + "/p5-t", 0) == 0u, out);
    BOOST_TEST(path.size() > 5);
    BOOST_TEST(path.substr(path.size() - 5) == ".task", out);
    const std::string task = test::read_text(path);
    BOOST_TEST(task.find(R"("task":"send_email")") != std::string::npos, task);
    BOOST_TEST(task.find("admin-spool@example.com") != std::string::npos, task);
    std::remove(path.c_str());  // an hour from now: not the suite's business

    const std::string admin = ADMIN_BIN;
    const auto unknown = test::command_output(admin + " spool nope '{}'; echo \"exit $?\"");
    // The known tasks are every jobs file's, a fork's too: send_email is one of them.
    BOOST_TEST(unknown.find("admin: no task named 'nope'; tasks: ") == 0u, unknown);
    BOOST_TEST(unknown.find(" send_email") != std::string::npos, unknown);
    BOOST_TEST(unknown.find("exit 1") != std::string::npos, unknown);
    const auto bad = test::command_output(admin + " spool send_email '[1]'; echo \"exit $?\"");
    BOOST_TEST(bad.find("args must be a JSON object") != std::string::npos, bad);
    BOOST_TEST(bad.find("exit 1") != std::string::npos, bad);
}

BOOST_AUTO_TEST_SUITE_END()
