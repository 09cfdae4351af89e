// test_api_keepconn.cpp: kept FastCGI connections with no head-of-line blocking (issue 11). nginx
// keeps its connections to the instances (/testinstance/ always does), and any idle worker must
// serve the next request on any of them: a fast request never waits for a slow one, recycling,
// a reload and a killed idle worker fail no request (a POST included), a killed busy worker
// fails only its own, and stop, reload and the stats still hold. Each case runs a bounded client
// load (tests/api/traffic.h) on a server instance of its own (tests/api/instance.h).
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <vector>

#include "tests/api/accounts.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"
#include "tests/db/raw_sql.h"
#include "tests/api/traffic.h"

using test::all_idle;
using test::busy_worker;
using test::in_background;
using test::Instance;
using test::instance_gets;
using test::poll_until;
using test::status_of;
using test::Traffic;

namespace {

const std::string kSleep = "/apitest/sleep";
const std::string kFast = "/api/list";  // touches neither PostgreSQL nor Redis

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// A GET of `path` in a thread of its own; its status and how long it took.
std::future<std::pair<int, double>> timed_in_background(const std::string& path)
{
    return std::async(std::launch::async, [path] {
        const auto start = Clock::now();
        const int status = status_of(Instance::url(path));
        return std::make_pair(status, seconds_since(start));
    });
}

// How many movies `creator` has (through the instance, 1000 a page).
long movies_of(const std::string& creator)
{
    long total = 0;
    for (int page = 1; page <= 100; ++page) {
        const auto r = test::get(Instance::url("/api/movies/?limit=1000&creator=" + creator +
                                               "&page=" + std::to_string(page)));
        BOOST_REQUIRE(r.status == 200);
        const auto d = test::parse(r);
        BOOST_REQUIRE(d.IsArray());
        total += d.Size();
        if (d.Size() < 1000)
            break;
    }
    return total;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_keepconn)

// Issue 11's head-of-line blocking: with kept connections, a fast request nginx sends on a
// connection whose worker is busy with a slow one must not wait for it.
BOOST_AUTO_TEST_CASE(a_fast_request_never_waits_behind_a_slow_one_on_a_kept_connection)
{
    Instance inst("keepconn_hol", {{"APP_WORKERS", "4"}});
    Traffic fast(3, 100000, 30, instance_gets(kFast));
    BOOST_REQUIRE(fast.wait_for(50, 10) >= 50);  // nginx holds kept connections to every worker
    // Sleeps of 2 s, one a second for 9 s: two workers are asleep most of the time, and their
    // kept connections stay in nginx's cache for the next fast request.
    std::vector<std::future<std::pair<int, double>>> sleeps;
    for (int i = 0; i < 9; ++i) {
        sleeps.push_back(timed_in_background(kSleep + "?seconds=2"));
        test::sleep_for(1);
    }
    std::vector<int> sleep_statuses;
    double sleep_max = 0;
    for (auto& s : sleeps) {
        const auto [status, took] = s.get();
        sleep_statuses.push_back(status);
        sleep_max = std::max(sleep_max, took);
    }
    fast.finish();
    BOOST_TEST_MESSAGE("head-of-line: " << fast.summary() << "; slowest sleep " << sleep_max
                                        << " s");
    BOOST_TEST(std::count(sleep_statuses.begin(), sleep_statuses.end(), 200) == 9);
    BOOST_TEST(sleep_max >= 2.0);
    BOOST_TEST(fast.count(200) > 200, fast.summary());  // not vacuous: many ran beside the sleeps
    BOOST_TEST(fast.failed([](int s) { return s == 200; }) == 0, fast.summary());
    // None waited for a 2 s sleep: a request sent to a sleeping worker would wait the rest of its
    // sleep, and among thousands some would wait nearly all of it; 1.2 s leaves room for load.
    BOOST_TEST(fast.slowest() < 1.2, fast.summary());
    BOOST_TEST(inst.stats().num("requests") >= fast.count(200) + 9);
}

// Recycling every 150 requests, a graceful reload and a SIGKILLed idle worker, under GETs and
// POSTs (which nginx never retries once sent): every request gets its 2xx, and every POST made
// exactly one movie.
BOOST_AUTO_TEST_CASE(recycling_a_reload_and_a_killed_idle_worker_fail_no_get_and_no_post)
{
    const auto editor = test::make_account("editor", "keepconn");
    const std::string sid = test::login_id(editor);
    Instance inst("keepconn_load", {{"APP_WORKERS", "4"},
                                    {"APP_MAX_REQUESTS", "150"},
                                    {"APP_MIN_WORKER_LIFETIME_SECONDS", "0"},
                                    {"APP_RELOAD_ON_REBUILD", "false"}});
    const auto first = inst.stats().pids();
    // Threads 0 and 1 GET, 2 and 3 POST a movie each time.
    std::atomic<long> posts{0};
    Traffic load(4, 5000, 120, [&](int thread, long n) {
        if (thread < 2)
            return status_of(Instance::url(kFast));
        ++posts;
        try {
            const std::string title =
                "keepconn " + std::to_string(thread) + "-" + std::to_string(n);
            return test::with_session(sid, "POST", Instance::url("/api/movies/"),
                                      R"({"title":")" + title + R"(","director":"Load"})")
                .status;
        } catch (const std::exception&) {
            return 0;
        }
    });
    BOOST_REQUIRE(load.wait_for(600, 60) >= 600);

    // An idle worker: the clients hold back their next request while it is killed (a busy one
    // may fail its request: the next case), then go on while the master replaces it.
    BOOST_REQUIRE(load.pause());
    pid_t idle = 0;
    BOOST_REQUIRE(poll_until(
        [&] {
            const auto s = inst.stats();
            for (const auto& w : s.workers().GetArray())
                if (std::string(w["state"].GetString()) == "idle" && w["pid"].GetInt() > 0)
                    idle = w["pid"].GetInt();
            return idle > 0;
        },
        5));
    BOOST_REQUIRE(kill(idle, SIGKILL) == 0);
    BOOST_TEST(poll_until([&] { return inst.stats().num("deaths") == 1; }, 5));
    load.resume();
    const long at_kill = load.done();

    BOOST_REQUIRE(load.wait_for(at_kill + 500, 60) >= at_kill + 500);
    const auto before = inst.stats();
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    test::Stats after;
    const bool reloaded = poll_until(
        [&] {
            after = inst.stats();
            return after.num("reloads_done") == before.num("reloads_done") + 1 &&
                   after.pids(true).empty() && after.pids().size() == 4u;
        },
        30);
    const long at_reload = load.done();
    // Enough of each kind: on a quiet machine the GETs outrun the POSTs (a write each).
    poll_until(
        [&] { return load.done() >= std::max(2400L, at_reload + 600) && posts.load() >= 600; }, 60);
    load.finish();
    BOOST_TEST_MESSAGE("GET and POST load: " << load.summary());

    const long total = load.done();
    BOOST_TEST(total >= 2400);
    // reloads_done counts a reload once its new workers are all up, while old ones remain.
    BOOST_TEST(reloaded, "the reload did not complete in 30 s: " << inst.stats_output());
    BOOST_TEST(load.failed([](int s) { return s == 200 || s == 201; }) == 0, load.summary());
    BOOST_TEST(load.count(200) > 500);
    BOOST_TEST(load.count(201) > 500);
    BOOST_TEST(movies_of(editor.id) == load.count(201));  // each POST ran once
    BOOST_REQUIRE(poll_until([&] { return all_idle(inst, 4); }, 10));
    const auto s = inst.stats();
    BOOST_TEST(s.num("deaths") == 1);
    BOOST_TEST(s.num("retired") >= 8, "retired " << s.num("retired"));  // recycled: ~2400 / 150
    BOOST_TEST(s.num("reloads_done") == 1);
    BOOST_TEST(s.num("reloads_failed") == 0);
    const auto now = s.pids();
    for (pid_t p : first)
        BOOST_TEST((std::find(now.begin(), now.end(), p) == now.end()));
    BOOST_TEST(inst.log().find("retired (served its max requests)") != std::string::npos);
    // Up to 10,000 movies: this test's own are removed (no wipe, which other tests' rows would
    // not survive).
    test::sql_row("DELETE FROM movies WHERE creator = $1::uuid", {editor.id});
    BOOST_TEST(movies_of(editor.id) == 0);
}

// A SIGKILLed busy worker: nginx answers its request with a 502 at once (not after
// fastcgi_read_timeout, 30 s), and no other request fails, also none sent while it was busy.
BOOST_AUTO_TEST_CASE(sigkill_of_a_busy_worker_fails_only_its_request_and_at_once)
{
    Instance inst("keepconn_kill", {{"APP_WORKERS", "4"}});
    Traffic fast(4, 100000, 40, instance_gets(kFast));
    BOOST_REQUIRE(fast.wait_for(50, 10) >= 50);
    auto victim = in_background(Instance::url(kSleep + "?seconds=20"));
    const auto [id, pid] = busy_worker(inst, "GET " + kSleep);
    // Long enough for nginx to send fast requests on every kept connection it has, its own
    // included, and past fastcgi_next_upstream_timeout (1 s): none of those may be retried.
    test::sleep_for(3);
    const long before_kill = fast.done();
    BOOST_REQUIRE(kill(pid, SIGKILL) == 0);
    const auto killed = Clock::now();
    const bool answered = victim.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    const double took = seconds_since(killed);
    test::sleep_for(2);  // and on after the kill
    fast.finish();
    BOOST_TEST_MESSAGE("busy worker killed: the victim after " << took
                                                               << " s; fast: " << fast.summary());
    BOOST_TEST(answered, "no reply 5 s after the kill (nginx waits for fastcgi_read_timeout?)");
    BOOST_TEST(victim.get() == 502);  // waits at most the 30 s read timeout
    BOOST_TEST(took < 5.0);
    BOOST_TEST(fast.done() > before_kill);
    BOOST_TEST(fast.count(200) > 200, fast.summary());
    BOOST_TEST(fast.failed([](int s) { return s == 200; }) == 0, fast.summary());
    BOOST_TEST(poll_until([&] { return all_idle(inst, 4); }, 5));
    const auto s = inst.stats();
    BOOST_TEST(s.num("deaths") == 1);
    const auto now = s.pids();
    BOOST_TEST((std::find(now.begin(), now.end(), pid) == now.end()));
    const std::string line = "worker " + std::to_string(id) + " (pid " + std::to_string(pid) +
                             ") died (signal Killed): respawning";
    BOOST_TEST(inst.log().find(line) != std::string::npos, line);
}

// The stats count each request once across recycling and a reload, and show every worker; a
// reload and a stop with nginx's kept connections open and idle end within the README's bounds
// (a worker told to leave goes once nginx has closed them, about 2 s when idle).
BOOST_AUTO_TEST_CASE(stats_count_every_request_once_and_reload_and_stop_end_in_time)
{
    Instance inst("keepconn_stats", {{"APP_WORKERS", "4"},
                                     {"APP_MAX_REQUESTS", "40"},
                                     {"APP_MIN_WORKER_LIFETIME_SECONDS", "0"},
                                     {"APP_RELOAD_ON_REBUILD", "false"},
                                     {"APP_STOP_GRACE_SECONDS", "20"}});
    const auto requests_grow_by = [&](long from, long n) {
        return poll_until(
            [&] { return all_idle(inst, 4) && inst.stats().num("requests") == from + n; }, 10);
    };
    const long start = inst.stats().num("requests");
    BOOST_TEST(start == 0);
    Traffic first(3, 100, 60, instance_gets(kFast));
    first.finish(true);
    BOOST_TEST(first.count(200) == 300, first.summary());
    BOOST_TEST(requests_grow_by(start, 300), inst.stats_output());
    auto s = inst.stats();
    BOOST_TEST(s.num("retired") >= 4);  // 300 / 40, less the rounds still open
    BOOST_TEST(s.workers().Size() == 4u);
    const auto pids = s.pids();
    BOOST_TEST(std::set<pid_t>(pids.begin(), pids.end()) == test::children_of(inst.pid()));
    for (const auto& w : s.workers().GetArray())
        BOOST_TEST(w["requests"].GetInt() < 40);

    // A reload while nginx holds idle kept connections.
    BOOST_TEST(status_of(Instance::url(kFast)) == 200);
    BOOST_TEST(!test::instance_connections().empty());
    const auto reload_start = Clock::now();
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    const bool reloaded = poll_until(
        [&] {
            const auto t = inst.stats();
            return t.num("reloads_done") == 1 && t.pids(true).empty() && t.pids().size() == 4u;
        },
        15);
    const double reload_took = seconds_since(reload_start);
    BOOST_TEST(reloaded);
    for (pid_t old : pids)
        BOOST_TEST(!test::children_of(inst.pid()).count(old));
    const long after_reload = inst.stats().num("requests");
    BOOST_TEST(after_reload == 301);  // carried over the reload

    Traffic second(3, 100, 60, instance_gets(kFast));
    second.finish(true);
    BOOST_TEST(second.count(200) == 300, second.summary());
    BOOST_TEST(requests_grow_by(after_reload, 300), inst.stats_output());
    s = inst.stats();
    BOOST_TEST(s.workers().Size() == 4u);
    const auto later = s.pids();
    BOOST_TEST(std::set<pid_t>(later.begin(), later.end()) == test::children_of(inst.pid()));
    BOOST_TEST(s.num("deaths") == 0);

    // A stop while nginx holds idle kept connections.
    BOOST_TEST(status_of(Instance::url(kFast)) == 200);
    BOOST_TEST(!test::instance_connections().empty());
    const auto stop_start = Clock::now();
    const int status = inst.stop(15);
    const double stop_took = seconds_since(stop_start);
    BOOST_TEST_MESSAGE("reload took " << reload_took << " s, stop " << stop_took << " s");
    BOOST_TEST(reload_took < 10.0);  // old workers gone too, long before a 60 s mercy period
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    BOOST_TEST(stop_took < 10.0);  // well within the 20 s grace: nothing was busy
    BOOST_TEST(test::instance_connections().empty());
}

BOOST_AUTO_TEST_SUITE_END()
