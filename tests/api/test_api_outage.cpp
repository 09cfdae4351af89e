// test_api_outage.cpp: PostgreSQL and Redis going away under the running server: fast 503s, never
// a hang, and service back by itself. Redis is paused (SIGSTOP) and resumed; PostgreSQL loses
// every connection of the app, as in a database restart.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "app/core/build_id.h"
#include "app/core/config.h"
#include "tests/api/accounts.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"
#include "tests/db/raw_sql.h"

namespace {

double seconds_for(const std::function<void()>& f)
{
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Redis of the test stack, paused for the life of this object.
struct PausedRedis {
    pid_t pid = 0;
    PausedRedis()
    {
        std::ifstream in(test::stack_run_dir() + "/redis.pid");
        in >> pid;
        BOOST_REQUIRE_MESSAGE(pid > 0, "no redis pid file in the stack's run dir");
        BOOST_REQUIRE(kill(pid, SIGSTOP) == 0);
    }
    ~PausedRedis() { kill(pid, SIGCONT); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_outage)

BOOST_AUTO_TEST_CASE(a_database_restart_costs_no_request)
{
    // Each worker's own backend: the server names its connections "restpie <pid>".
    const auto workers = test::parse_stats(test::command_output(SERVER_BINARY " --stats")).pids();
    BOOST_REQUIRE(workers.size() >= 2u);
    auto backends = [&] {  // worker pid -> its backend's pid, for the workers that have one
        std::map<pid_t, std::string> out;
        const auto row = test::sql_row(
            "SELECT string_agg(substr(application_name, 9) || '=' || pid, ',') "
            "FROM pg_stat_activity WHERE application_name LIKE 'restpie %'");
        std::istringstream in(row.empty() ? "" : row.at(0));
        for (std::string item; std::getline(in, item, ',');) {
            const pid_t pid = std::stoi(item.substr(0, item.find('=')));
            if (std::find(workers.begin(), workers.end(), pid) != workers.end())
                out[pid] = item.substr(item.find('=') + 1);
        }
        return out;
    };
    // Reads until every worker holds a connection (whichever worker is idle serves a request).
    std::map<pid_t, std::string> before;
    BOOST_REQUIRE(test::poll_until(
        [&] {
            for (int i = 0; i < 8; ++i)
                test::get("/api/movies/");
            before = backends();
            return before.size() == workers.size();
        },
        20));
    std::string killed;  // "pid,pid,...": exactly the workers' backends
    for (const auto& [worker, backend] : before)
        killed += (killed.empty() ? "" : ",") + backend;
    const auto r = test::sql_row(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE pid = ANY(string_to_array($1, ',')::int[])",
        {killed});
    BOOST_TEST(std::stoul(r.at(0)) == workers.size());
    // pg_terminate_backend only signals: the restart is over once those backends have exited
    // (and closed their sockets), as when PostgreSQL itself restarts.
    BOOST_TEST(test::poll_until(
        [&] {
            return test::sql_row(
                       "SELECT count(*) FROM pg_stat_activity "
                       "WHERE pid = ANY(string_to_array($1, ',')::int[])",
                       {killed})
                       .at(0) == "0";
        },
        5));
    // A write is never retried, so each worker must see before the request that the server
    // closed its idle connection: a login (a read in a POST) is a 400, never a 503.
    test::clear_login_throttle();  // nor a 429 after the failed logins of tests before it
    for (int i = 0; i < 8; ++i) {
        const auto r = test::post_json("/api/login", R"({"email":"nobody-)" + std::to_string(i) +
                                                         R"(@example.com","password":"x"})");
        BOOST_TEST(r.status == 400, r.body);
    }
    // Reads go through all the same, and in the end every worker is on a new connection.
    int failed = 0;
    BOOST_TEST(test::poll_until(
        [&] {
            for (int i = 0; i < 8; ++i)
                failed += test::get("/api/movies/").status != 200;
            const auto after = backends();
            if (after.size() != workers.size())
                return false;
            for (const auto& [worker, backend] : after)
                if (backend == before.at(worker))
                    return false;
            return true;
        },
        20));
    BOOST_TEST(failed == 0);
}

BOOST_AUTO_TEST_CASE(health_checks_both_services_now)
{
    const auto up = test::get("/api/health");
    BOOST_TEST(up.status == 200);
    BOOST_TEST(up.body.find(R"({"ok":true,"database":"ok","redis":"ok","build":")" +
                            std::string(core::build_id()) + R"(","release":)") == 0u,
               up.body);
    BOOST_TEST(up.header("cache-control") == "no-store");
    {
        PausedRedis paused;
        const auto r = test::get("/api/health");
        BOOST_TEST(r.status == 503);
        BOOST_TEST(r.body.find(R"({"ok":false,"database":"ok","redis":"unavailable",)") == 0u,
                   r.body);
    }
    // A server whose database is nowhere (nothing listens on port 1), deployed as a release: its
    // binary is <run>/instance/server, so its RELEASE file is <run>/RELEASE.
    const std::string release_file = test::stack_run_dir() + "/RELEASE";
    const std::string deployed_file = test::stack_run_dir() + "/DEPLOYED";
    std::ofstream(release_file) << "20250101-120000-abc1234\n";
    std::ofstream(deployed_file) << "release=20250101-120000-abc1234\ncommit=abc1234\ndirty=\n"
                                    "by=ops@example.com\ntime=2025-01-01T12:00:00Z\n";
    test::Instance nodb("nodb",
                        {{"APP_DB_HOST", "127.0.0.1"}, {"APP_DB_PORT", "1"}, {"APP_WORKERS", "1"}});
    const auto r = test::get(test::Instance::url("/api/health"));
    std::filesystem::remove(release_file);
    std::filesystem::remove(deployed_file);
    BOOST_TEST(r.status == 503);
    BOOST_TEST(r.body.find(R"({"ok":false,"database":"unavailable","redis":"ok",)") == 0u, r.body);
    BOOST_TEST(
        r.body.find(R"("release":"20250101-120000-abc1234","commit":"abc1234",)"
                    R"("deployed_by":"ops@example.com","deployed_at":"2025-01-01T12:00:00Z"})") !=
            std::string::npos,
        r.body);
    BOOST_TEST(r.header("cache-control") == "no-store");
    BOOST_TEST(test::poll_until([] { return test::get("/api/health").status == 200; }, 10));
}

BOOST_AUTO_TEST_CASE(redis_away_is_a_fast_503_and_back_by_itself)
{
    BOOST_REQUIRE(test::get("/apitest/counter").status == 200);
    {
        PausedRedis paused;
        // Each request waits out redis_timeout_ms once; a retry after the timeout (or none at
        // all) would take twice that or more. The fastest of three is the one a loaded machine
        // delayed least.
        const double timeout = core::config().integer("redis_timeout_ms") / 1000.0;
        double fastest = 1e9;
        for (int i = 0; i < 3; ++i) {
            int status = 0;
            fastest = std::min(fastest,
                               seconds_for([&] { status = test::get("/apitest/counter").status; }));
            BOOST_TEST(status == 503);
        }
        BOOST_TEST(fastest >= timeout - 0.1);
        BOOST_TEST(fastest < 2 * timeout - 0.1,
                   "a request waited " << fastest << " s on a stalled Redis");
        // Routes that do not need Redis go on serving.
        BOOST_TEST(test::get("/api/movies/").status == 200);
    }
    BOOST_TEST(test::poll_until([] { return test::get("/apitest/counter").status == 200; }, 10));
}

BOOST_AUTO_TEST_SUITE_END()
