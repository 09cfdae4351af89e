// test_api_workers.cpp: the master's care of its workers, each case on a server instance of its
// own (tests/api/instance.h) with the config it needs: harakiri, recycling by requests, memory
// and lifetime, a SIGKILLed busy worker, a crash loop's backoff, graceful stop and the stats.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "app/prefork/process.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::all_idle;
using test::busy_worker;
using test::in_background;
using test::Instance;
using test::instance_connections;
using test::occurrences;
using test::poll_until;
using test::status_of;
using test::successes;

namespace {

const std::string kSleep = "/apitest/sleep";

// The time of day of the log line holding `needle` ("2026-01-02 10:11:12.345 ..."), in seconds.
double seconds_of_day(const std::string& log, const std::string& needle)
{
    const auto at = log.find(needle);
    if (at == std::string::npos)
        return 0;
    const auto line = log.rfind('\n', at) == std::string::npos ? 0 : log.rfind('\n', at) + 1;
    int h = 0, m = 0;
    double sec = 0;
    std::sscanf(log.c_str() + line + 11, "%d:%d:%lf", &h, &m, &sec);
    return h * 3600 + m * 60 + sec;
}

bool has(const std::vector<pid_t>& pids, pid_t pid)
{
    return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

double seconds_since(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_workers)

BOOST_AUTO_TEST_CASE(sample_routes_that_spool_or_wait_exist_only_in_local_dev_or_test_mode)
{
    const auto r = test::get(kSleep + "?ms=1");  // the stack runs in test mode
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.find(R"("slept_ms":1,)") != std::string::npos);
    BOOST_TEST(test::get("/api/list").body.find(kSleep) != std::string::npos);

    Instance prod("production",
                  {{"APP_LOCAL_DEV", "false"}, {"APP_TEST_MODE", "false"}, {"APP_WORKERS", "1"}});
    BOOST_TEST(test::get(Instance::url(kSleep + "?ms=1")).status == 404);
    BOOST_TEST(test::get(Instance::url("/apitest/sendemail")).status == 404);  // issue 9
    BOOST_TEST(test::http("POST", Instance::url("/apitest/dbtruncate")).status == 404);
    const auto list = test::get(Instance::url("/api/list"));
    BOOST_TEST(list.status == 200);
    BOOST_TEST(list.body.find("/apitest/counter") != std::string::npos);
    BOOST_TEST(list.body.find(kSleep) == std::string::npos);
    BOOST_TEST(list.body.find("/apitest/sendemail") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(harakiri_kills_a_request_past_the_limit_while_others_are_served)
{
    Instance inst("harakiri", {{"APP_HARAKIRI_SECONDS", "2"}, {"APP_WORKERS", "3"}});
    // The killed request times itself: the load beside it must not count.
    auto slow = std::async(std::launch::async, [url = Instance::url(kSleep + "?seconds=10")] {
        const auto start = std::chrono::steady_clock::now();
        const int status = status_of(url);
        return std::make_pair(status, seconds_since(start));
    });
    const auto [id, pid] = busy_worker(inst, "GET " + kSleep);
    // 2 x 50 requests of 50 ms: they run on the other workers before, during and after the kill
    BOOST_TEST(successes(Instance::url(kSleep + "?ms=50"), 2, 50) == 100);
    const auto [status, took] = slow.get();
    BOOST_TEST(status == 502);  // from nginx: the worker died under it
    BOOST_TEST(took >= 2.0);    // not before its 2 s
    BOOST_TEST(took < 8.0);     // long before the 10 s it asked for, with room for a loaded machine
    const std::string line = "HARAKIRI ON WORKER " + std::to_string(id) +
                             " (pid: " + std::to_string(pid) + ", try: 1) GET " + kSleep;
    BOOST_TEST(poll_until([&] { return inst.log().find(line) != std::string::npos; }, 3), line);
    BOOST_TEST(poll_until([&] { return all_idle(inst, 3); }, 5));
    const auto s = inst.stats();
    BOOST_TEST(s.num("harakiri") == 1);
    BOOST_TEST(s.num("respawns") == 1);
    BOOST_TEST(!has(s.pids(), pid));
    BOOST_TEST(status_of(Instance::url(kSleep + "?ms=1")) == 200);
}

BOOST_AUTO_TEST_CASE(
    nginx_keeps_its_connections_to_the_workers_and_the_workers_let_them_go_when_nginx_closes_them)
{
    Instance inst("keepconn", {{"APP_WORKERS", "2"}});
    for (int i = 0; i < 10; ++i)
        BOOST_REQUIRE(status_of(Instance::url(kSleep + "?ms=1")) == 200);
    const auto first = instance_connections();
    for (int i = 0; i < 200; ++i)
        BOOST_REQUIRE(status_of(Instance::url(kSleep + "?ms=1")) == 200);
    const auto later = instance_connections();
    std::vector<std::string> both;
    std::set_intersection(first.begin(), first.end(), later.begin(), later.end(),
                          std::back_inserter(both));
    BOOST_TEST(!first.empty());
    BOOST_TEST(later.size() <= 256u);  // keepalive 128 per nginx worker
    BOOST_TEST(!both.empty(), "no connection outlived 200 requests");  // one per request otherwise
    BOOST_TEST(inst.stats().num("requests") >= 210);
    BOOST_TEST(inst.stats().num("kept_connections") ==
               static_cast<std::int64_t>(instance_connections().size()));
    // A reload of nginx ends its old workers, which close their idle connections: the app's
    // workers and master drop their duplicates, so none stays open.
    std::ifstream pid_file(test::stack_run_dir() + "/nginx.pid");
    pid_t nginx = 0;
    BOOST_REQUIRE(pid_file >> nginx);
    BOOST_REQUIRE(kill(nginx, SIGHUP) == 0);
    BOOST_TEST(poll_until([] { return instance_connections().empty(); }, 10));
    BOOST_TEST(poll_until([&] { return inst.stats().num("kept_connections") == 0; }, 5));
    BOOST_TEST(status_of(Instance::url(kSleep + "?ms=1")) == 200);
}

BOOST_AUTO_TEST_CASE(a_worker_that_served_its_max_requests_is_replaced_without_a_failed_request)
{
    Instance inst("max_requests", {{"APP_MAX_REQUESTS", "5"},
                                   {"APP_MIN_WORKER_LIFETIME_SECONDS", "0"},
                                   {"APP_WORKERS", "2"}});
    const auto first = inst.stats().pids();
    BOOST_TEST(successes(Instance::url(kSleep + "?ms=1"), 3, 20) == 60);
    BOOST_TEST(poll_until([&] { return all_idle(inst, 2); }, 5));
    const auto s = inst.stats();
    BOOST_TEST(s.num("requests") == 60);
    BOOST_TEST(s.num("retired") >= 10);  // 60 / 5, less the rounds still open
    BOOST_TEST(s.num("deaths") == 0);
    for (const auto& w : s.workers().GetArray())
        BOOST_TEST(w["requests"].GetInt() < 5);
    for (pid_t p : first)
        BOOST_TEST(!has(s.pids(), p));
    BOOST_TEST(inst.log().find("retired (served its max requests) after 5 requests: respawning") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_recycling_before_the_min_worker_lifetime)
{
    Instance inst("min_lifetime", {{"APP_MAX_REQUESTS", "2"},
                                   {"APP_MIN_WORKER_LIFETIME_SECONDS", "30"},
                                   {"APP_WORKERS", "1"}});
    BOOST_TEST(successes(Instance::url(kSleep + "?ms=1"), 1, 10) == 10);
    const auto s = inst.stats();
    BOOST_TEST(s.num("retired") == 0);
    BOOST_REQUIRE(s.ok && s.workers().Size() == 1);
    BOOST_TEST(s.workers()[0]["requests"].GetInt() == 10);
}

BOOST_AUTO_TEST_CASE(a_worker_over_the_memory_limit_is_replaced_without_a_failed_request)
{
    // Every worker is over 1 MB, so each one retires after its request.
    Instance inst("rss", {{"APP_RELOAD_ON_RSS_MB", "1"},
                          {"APP_MIN_WORKER_LIFETIME_SECONDS", "0"},
                          {"APP_WORKERS", "2"}});
    BOOST_TEST(successes(Instance::url(kSleep + "?ms=1"), 2, 10) == 20);
    BOOST_TEST(poll_until([&] { return inst.stats().num("retired") == 20; }, 5));
    BOOST_TEST(inst.log().find("retired (went over the memory limit) after 1 requests") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_worker_past_its_max_lifetime_retires_after_its_request)
{
    Instance inst("lifetime", {{"APP_MAX_WORKER_LIFETIME_SECONDS", "1"}, {"APP_WORKERS", "2"}});
    const auto first = inst.stats().pids();
    BOOST_REQUIRE(first.size() == 2);
    // Requests of 200 ms keep both workers busy while the master retires them.
    auto load = std::async(std::launch::async,
                           [] { return successes(Instance::url(kSleep + "?ms=200"), 2, 15); });
    BOOST_TEST(poll_until(
        [&] {
            const auto now = inst.stats().pids();
            return now.size() == 2 && !has(now, first[0]) && !has(now, first[1]);
        },
        10));
    BOOST_TEST(load.get() == 30);
    BOOST_TEST(inst.stats().num("retired") >= 2);
    BOOST_TEST(inst.log().find("reached its max lifetime (1 s): retiring it") != std::string::npos);
    BOOST_TEST(inst.log().find("retired (max lifetime)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigkill_of_a_busy_worker_loses_only_its_own_request)
{
    Instance inst("sigkill", {{"APP_WORKERS", "3"}});
    auto victim = in_background(Instance::url(kSleep + "?seconds=5"));
    const auto [id, pid] = busy_worker(inst, "GET " + kSleep);
    auto others = std::async(std::launch::async,
                             [] { return successes(Instance::url(kSleep + "?ms=100"), 2, 10); });
    BOOST_REQUIRE(poll_until([&] { return inst.stats().num("busy") == 3; }, 5));  // all in flight
    BOOST_REQUIRE(kill(pid, SIGKILL) == 0);
    BOOST_TEST(victim.get() == 502);
    BOOST_TEST(others.get() == 20);
    BOOST_TEST(poll_until([&] { return all_idle(inst, 3); }, 5));
    const auto s = inst.stats();
    BOOST_TEST(s.num("deaths") == 1);
    BOOST_TEST(!has(s.pids(), pid));
    const std::string line = "worker " + std::to_string(id) + " (pid " + std::to_string(pid) +
                             ") died (signal Killed): respawning";
    BOOST_TEST(inst.log().find(line) != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(a_crash_looping_worker_is_respawned_with_growing_delays)
{
    const auto looping = test::crash_looping("crashloop");
    const Instance& inst = *looping;
    // Deaths within a second of starting: respawned at once, then with delays of 2 s, 4 s, ...
    const std::string second = "2 times in a row: crash loop, respawn in 2 s";
    const std::string third = "3 times in a row: crash loop, respawn in 4 s";
    BOOST_TEST(poll_until([&] { return inst.log().find(third) != std::string::npos; }, 10));
    const auto log = inst.log();
    BOOST_TEST(log.find(second) != std::string::npos);
    BOOST_TEST(seconds_of_day(log, third) - seconds_of_day(log, second) >=
               1.9);  // the delay was kept
    const long at_start = occurrences(log, "(exit code 3)");
    BOOST_TEST(at_start >= 2);  // the SIGKILL counts too when the worker was young
    BOOST_TEST(at_start <= 3);
    const auto s = inst.stats();
    BOOST_TEST(s.num("deaths") == at_start + 1);
    BOOST_REQUIRE(s.workers().Size() == 1);
    BOOST_TEST(s.workers()[0]["state"].GetString() == std::string("down"));
    BOOST_TEST(s.workers()[0]["respawn_in_ms"].GetInt() > 2000);
    // Fixed: the next respawn serves again.
    std::filesystem::remove(test::crash_file("crashloop"));
    BOOST_TEST(poll_until([&] { return all_idle(inst, 1); }, 8));
    BOOST_TEST(occurrences(inst.log(), "(exit code 3)") == at_start);  // no busy loop meanwhile
    BOOST_TEST(status_of(Instance::url(kSleep + "?ms=1")) == 200);
}

BOOST_AUTO_TEST_CASE(graceful_stop_finishes_requests_then_kills_after_the_grace_period)
{
    Instance inst("stop", {{"APP_WORKERS", "2"}, {"APP_STOP_GRACE_SECONDS", "2"}});
    auto quick = in_background(Instance::url(kSleep + "?ms=800"));
    auto stuck = in_background(Instance::url(kSleep + "?seconds=15"));
    BOOST_REQUIRE(poll_until([&] { return inst.stats().num("busy") == 2; }, 5));
    const auto start = std::chrono::steady_clock::now();
    const int status = inst.stop(10);
    const double took = seconds_since(start);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    BOOST_TEST(quick.get() == 200);  // finished in hand
    BOOST_TEST(stuck.get() == 502);  // killed after the grace period
    BOOST_TEST(took >= 2.0);
    BOOST_TEST(took < 8.0);  // long before the stuck request's 15 s, with room for a loaded machine
    BOOST_TEST(inst.log().find("still busy after the stop grace period: SIGKILL") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigint_and_sigquit_stop_gracefully_too)
{
    for (int sig : {SIGINT, SIGQUIT}) {
        Instance inst("stop" + std::to_string(sig), {{"APP_WORKERS", "1"}});
        auto request = in_background(Instance::url(kSleep + "?ms=500"));
        BOOST_REQUIRE(poll_until([&] { return inst.stats().num("busy") == 1; }, 5));
        const int status = inst.stop(10, sig);
        BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "signal " << sig);
        BOOST_TEST(request.get() == 200, "signal " << sig);
    }
}

BOOST_AUTO_TEST_CASE(stats_command_shows_the_right_counts)
{
    // On TCP this time, loopback only; the port is in this stack's range (http + 5).
    const std::string stats_at = "127.0.0.1:" + std::to_string(test::base_port() + 5);
    Instance inst("stats", {{"APP_WORKERS", "2"}, {"APP_STATS_LISTEN", stats_at}});
    for (int i = 0; i < 7; ++i)
        BOOST_TEST(status_of(Instance::url(kSleep + "?ms=1")) == 200);
    const auto s = test::parse_stats(inst.stats_output());  // what `server --stats` prints
    BOOST_REQUIRE(s.ok);
    BOOST_TEST(s.num("pid") == inst.pid());
    BOOST_TEST(s.num("requests") == 7);
    for (const char* zero : {"reloads", "respawns", "harakiri", "deaths", "retired", "busy"})
        BOOST_TEST(s.num(zero) == 0, zero);
    BOOST_TEST(s.num("idle") == 2);
    BOOST_TEST(s.num("uptime_s") >= 0);
    BOOST_TEST(s.str("build_id") == prefork::file_hash(inst.binary()));
    const auto children = test::children_of(inst.pid());
    const auto pids = s.pids();
    BOOST_TEST(std::set<pid_t>(pids.begin(), pids.end()) == children);
    long served = 0;
    for (const auto& w : s.workers().GetArray()) {
        served += w["requests"].GetInt();
        BOOST_TEST(w["rss_kb"].GetInt() > 1000);
        BOOST_TEST(w["state"].GetString() == std::string("idle"));
    }
    BOOST_TEST(served == 7);

    BOOST_REQUIRE(kill(pids.at(0), SIGKILL) == 0);
    BOOST_TEST(poll_until(
        [&] {
            const auto t = inst.stats();
            return t.num("respawns") == 1 && t.num("deaths") == 1 && t.num("idle") == 2;
        },
        5));
}

BOOST_AUTO_TEST_CASE(stats_are_never_served_beyond_loopback)
{
    const std::string out = test::command_output(
        "APP_LISTEN=unix:" + test::stack_run_dir() +
        "/refused.sock APP_METRICS_LISTEN= "
        "APP_STATS_LISTEN=0.0.0.0:" +
        std::to_string(test::base_port() + 6) +
        // timeout: were the check broken, the server would serve on and the test never end.
        " timeout 20 " SERVER_BINARY "; echo \"exit $?\"");
    BOOST_TEST(out.find("must be a unix socket or a loopback address") != std::string::npos, out);
    BOOST_TEST(out.find("exit 1") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(the_stack_server_serves_its_stats)
{
    // deploy/local.sh gives the stack's server a stats socket (APP_STATS_LISTEN).
    const auto s = test::parse_stats(test::command_output(SERVER_BINARY " --stats"));
    BOOST_REQUIRE(s.ok);
    BOOST_TEST(s.num("pid") == std::stol(test::read_text(test::stack_run_dir() + "/server.pid")));
    BOOST_TEST(s.workers().Size() == 4);
}

BOOST_AUTO_TEST_SUITE_END()
