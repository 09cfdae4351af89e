// test_spooler.cpp: the spooler as real processes (the test helper: the spooler binary's code with
// the test tasks) on a temporary spool directory, with short delays and caps set through APP_*.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "app/core/json.h"
#include "app/tasks/spool.h"
#include "tests/tasks/procs.h"

namespace {

using test::Note;

struct SpoolerFixture : test::ProcessFixture {
    std::string spool_dir = tmp.path + "/spool";
    tasks::SpoolDir queue{spool_dir};

    SpoolerFixture()
    {
        queue.create();
        env.insert({{"APP_SPOOL_DIR", spool_dir},
                    {"APP_SPOOLER_PROCESSES", "3"},
                    {"APP_SPOOLER_RETRY_SECONDS", "1"},
                    {"APP_SPOOLER_MAX_RETRIES", "2"},
                    {"APP_SPOOLER_SCAN_SECONDS", "1"},
                    {"APP_SPOOLER_TIME_CAP_SECONDS", "30"}});
    }

    std::unique_ptr<test::Helper> start()
    {
        return std::make_unique<test::Helper>(std::vector<std::string>{"spooler"}, env);
    }

    std::string put(const std::string& task, const std::string& id, const std::string& more = "",
                    std::optional<tasks::Clock::time_point> at = std::nullopt, int priority = 5)
    {
        return queue.put(task, R"({"id":")" + id + "\"" + more + "}", at, priority);
    }

    std::size_t in(const std::string& folder) const { return queue.list(folder).size(); }
};

std::vector<Note> only(const std::vector<Note>& notes, const std::string& what,
                       const std::string& id)
{
    std::vector<Note> out;
    std::copy_if(notes.begin(), notes.end(), std::back_inserter(out),
                 [&](const Note& n) { return n.what == what && n.id == id; });
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(spooler, SpoolerFixture)

BOOST_AUTO_TEST_CASE(two_hundred_tasks_run_exactly_once_with_three_processes)
{
    env["APP_SPOOLER_MAX_TASKS"] = "30";  // processes retire and are replaced during the run
    for (int i = 0; i < 100; ++i)
        put("test_record", "r" + std::to_string(i));
    auto spooler = start();
    for (int i = 100; i < 200; ++i)  // these arrive while it runs: inotify
        put("test_record", "r" + std::to_string(i));

    BOOST_REQUIRE(test::poll_until([&] { return notes("runs").size() >= 200; }, 60));
    test::sleep_for(1.5);  // time for a duplicate to show up
    const auto runs = notes("runs");
    BOOST_TEST(runs.size() == 200u);
    std::map<std::string, int> count;
    std::set<pid_t> pids;
    for (const auto& n : runs)
        count[n.id]++, pids.insert(n.pid);
    BOOST_TEST(count.size() == 200u);
    BOOST_TEST(
        std::all_of(count.begin(), count.end(), [](const auto& kv) { return kv.second == 1; }));
    BOOST_TEST(pids.size() >= 4u);  // 3 processes, and replacements of those that retired
    BOOST_TEST(log().find("retiring after") != std::string::npos);

    // The stats, through the real binary's --stats.
    const auto stats = core::JsonObject::parse(
        test::command_output("APP_SPOOL_DIR=" + spool_dir + " " SPOOLER_BIN " --stats"));
    BOOST_TEST(stats.optional_int("done").value_or(-1) == 200);
    BOOST_TEST(stats.optional_int("queue").value_or(-1) == 0);
    BOOST_TEST(stats.optional_int("running").value_or(-1) == 0);
    BOOST_TEST(stats.optional_int("failed").value_or(-1) == 0);
    BOOST_TEST(stats.value()["processes"].Size() == 3u);
}

BOOST_AUTO_TEST_CASE(process_killed_mid_task_loses_no_task_and_repeats_no_finished_one)
{
    env["APP_SPOOLER_PROCESSES"] = "2";
    put("test_slow", "s1", R"(,"first":4,"seconds":1)");
    for (int i = 0; i < 20; ++i)
        put("test_record", "k" + std::to_string(i));
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("slow"), "start", "s1").empty(); }, 15));
    const pid_t victim = only(notes("slow"), "start", "s1").at(0).pid;
    BOOST_REQUIRE(kill(victim, SIGKILL) == 0);

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("slow"), "end", "s1").empty(); }, 20));
    BOOST_REQUIRE(test::poll_until([&] { return notes("runs").size() >= 20; }, 20));
    test::sleep_for(1.5);
    const auto starts = only(notes("slow"), "start", "s1");
    BOOST_TEST(starts.size() == 2u);  // the killed run, and the run after the restart
    BOOST_TEST(starts.back().pid != victim);
    BOOST_TEST(only(notes("slow"), "end", "s1").size() == 1u);
    std::map<std::string, int> count;
    for (const auto& n : notes("runs"))
        count[n.id]++;
    BOOST_TEST(count.size() == 20u);
    BOOST_TEST(
        std::all_of(count.begin(), count.end(), [](const auto& kv) { return kv.second == 1; }));
    BOOST_TEST(in(queue.dir()) + in(queue.running_dir()) + in(queue.failed_dir()) == 0u);
    BOOST_TEST(log().find("interrupted: its spooler process died") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(task_past_time_cap_is_killed_and_retried)
{
    env["APP_SPOOLER_PROCESSES"] = "1";
    env["APP_SPOOLER_TIME_CAP_SECONDS"] = "2";
    put("test_slow", "c1", R"(,"first":30,"seconds":0)");
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("slow"), "end", "c1").empty(); }, 20));
    const auto starts = only(notes("slow"), "start", "c1");
    BOOST_REQUIRE(starts.size() == 2u);
    BOOST_TEST(starts[0].pid != starts[1].pid);       // the first process was killed
    BOOST_TEST(starts[1].ms - starts[0].ms >= 2900);  // killed at the cap (2 s), retry delay 1 s
    BOOST_TEST(starts[1].ms - starts[0].ms < 10000);
    BOOST_TEST(log().find("TASK test_slow:") != std::string::npos);
    BOOST_TEST(log().find("killed: ran past the time cap of 2 s: run 1 failed, next run in 1 s") !=
               std::string::npos);
    BOOST_TEST(in(queue.running_dir()) + in(queue.dir()) == 0u);
}

BOOST_AUTO_TEST_CASE(failing_task_is_retried_with_growing_delay_then_moved_to_failed)
{
    const auto asks = put("test_fails", "q1");
    const auto throws = put("test_fails", "q2", R"(,"throw":true)");
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return in(queue.failed_dir()) == 2; }, 20));
    test::sleep_for(1.5);
    for (const char* id : {"q1", "q2"}) {
        const auto runs = only(notes("fails"), "run", id);
        BOOST_REQUIRE(runs.size() == 3u);  // the first run and spooler_max_retries = 2 retries
        BOOST_TEST(runs[1].ms - runs[0].ms >= 1000);  // spooler_retry_seconds
        BOOST_TEST(runs[2].ms - runs[1].ms >= 2000);  // doubled
    }
    std::map<std::string, std::string> errors;
    for (const auto& t : queue.list(queue.failed_dir())) {
        BOOST_TEST(t.failures == 3);
        errors[t.id] = test::read_text(queue.failed_dir() + "/" + t.stem() + ".error");
    }
    BOOST_TEST(errors[asks] == "the task asked for a retry\n");
    BOOST_TEST(errors[throws] == "boom q2\n");
    BOOST_TEST(log().find("run 3 failed, no retries left: moved to failed/") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(task_scheduled_for_later_does_not_run_early)
{
    const auto at = tasks::Clock::now() + std::chrono::seconds(3);
    put("test_record", "late", "", at);
    put("test_record", "now");
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("runs"), "run", "now").empty(); }, 10));
    test::sleep_for(
        std::max(0.0, std::chrono::duration<double>(at - tasks::Clock::now()).count() - 0.7));
    BOOST_TEST(only(notes("runs"), "run", "late").empty());
    BOOST_TEST(in(queue.dir()) == 1u);
    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("runs"), "run", "late").empty(); }, 10));
    BOOST_TEST(only(notes("runs"), "run", "late").at(0).ms >= tasks::to_ms(at));
}

BOOST_AUTO_TEST_CASE(higher_priority_runs_first)
{
    env["APP_SPOOLER_PROCESSES"] = "1";
    for (int i = 0; i < 5; ++i)
        put("test_record", "low" + std::to_string(i), "", std::nullopt, 9);
    for (int i = 0; i < 5; ++i)
        put("test_record", "high" + std::to_string(i), "", std::nullopt, 0);
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return notes("runs").size() >= 10; }, 15));
    const auto runs = notes("runs");
    for (std::size_t i = 0; i < runs.size(); ++i)
        BOOST_TEST(runs[i].id.rfind(i < 5 ? "high" : "low", 0) == 0u);  // spooled later, run first
}

BOOST_AUTO_TEST_CASE(reload_command_replaces_the_processes_and_reports_it)
{
    env["APP_SPOOLER_PROCESSES"] = "2";
    auto spooler = start();
    // `spooler --reload PID` as systemd's ExecReload runs it, with the spooler's config.
    std::string reload = "";
    for (const auto& [k, v] : env)
        reload += k + "='" + v + "' ";
    reload += std::string(TASK_HELPER) + " spooler --reload " + std::to_string(spooler->pid()) +
              "; echo \"exit $?\"";
    const std::string sock = tmp.path + "/spooler-stats.sock";
    BOOST_REQUIRE(test::poll_until([&] { return std::filesystem::exists(sock); }, 10));
    for (int n = 1; n <= 2; ++n) {  // the second proves the first let its old processes go
        const auto out = test::command_output(reload);
        BOOST_TEST(out.find("spooler: reload " + std::to_string(n) + " done") == 0u, out);
        BOOST_TEST(out.find("exit 0") != std::string::npos, out);
    }
    BOOST_TEST(test::poll_until([&] {
        return count_in_log("old worker 1 (pid") == 2u && count_in_log("old worker 2 (pid") == 2u;
    }, 10));
    put("test_record", "after-reload");
    BOOST_TEST(test::poll_until([&] { return notes("runs").size() == 1u; }, 10));
}

BOOST_AUTO_TEST_SUITE_END()
