// test_spooler.cpp: the spooler as real processes (the test helper: the spooler binary's code with
// the test tasks) on a temporary spool directory, with short delays and caps set through APP_*.
#include <signal.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
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

    // The counters and folders, through the real binary's --stats.
    core::JsonObject stats() const
    {
        return core::JsonObject::parse(
            test::command_output("APP_SPOOL_DIR=" + spool_dir + " " SPOOLER_BIN " --stats"));
    }
    std::int64_t stat(const char* key) const { return stats().optional_int(key).value_or(-1); }
};

// How long a task run twice would take to show its second run: a failed claim is retried after
// spooler_retry_seconds (1 s), doubled for a second failure, and found by a scan (1 s) on a
// machine that may be slow: a "no duplicate" check watches this long.
constexpr double kDuplicateWindow = 5.0;

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
    BOOST_TEST(!test::poll_until([&] { return notes("runs").size() > 200; }, kDuplicateWindow));
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
    const auto stats = this->stats();
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

    BOOST_REQUIRE(
        test::poll_until([&] { return !only(notes("slow"), "start", "s1").empty(); }, 15));
    const pid_t victim = only(notes("slow"), "start", "s1").at(0).pid;
    BOOST_REQUIRE(kill(victim, SIGKILL) == 0);

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("slow"), "end", "s1").empty(); }, 20));
    BOOST_REQUIRE(test::poll_until([&] { return notes("runs").size() >= 20; }, 20));
    BOOST_TEST(!test::poll_until(
        [&] { return notes("runs").size() > 20 || only(notes("slow"), "start", "s1").size() > 2; },
        kDuplicateWindow));
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
    BOOST_TEST(!test::poll_until([&] { return notes("fails").size() > 6; }, kDuplicateWindow));
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
    const auto s = stats();
    BOOST_TEST(s.optional_int("retried").value_or(-1) == 4);  // 2 tasks, 2 retries each
    BOOST_TEST(s.optional_int("failed").value_or(-1) == 2);
    BOOST_TEST(s.optional_int("failed_folder").value_or(-1) == 2);
    BOOST_TEST(s.optional_int("done").value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(task_scheduled_for_later_does_not_run_early)
{
    const auto at = tasks::Clock::now() + std::chrono::seconds(3);
    put("test_record", "late", "", at);
    put("test_record", "now");
    auto spooler = start();

    BOOST_REQUIRE(test::poll_until([&] { return !only(notes("runs"), "run", "now").empty(); }, 10));
    BOOST_TEST(stat("scheduled") == 1);  // waiting for its time, not ready
    BOOST_TEST(stat("queue") == 0);
    BOOST_TEST(!test::poll_until(
        [&] { return !only(notes("runs"), "run", "late").empty(); },
        std::max(0.0, std::chrono::duration<double>(at - tasks::Clock::now()).count() - 0.7)));
    BOOST_TEST(in(queue.dir()) == 1u);
    BOOST_REQUIRE(
        test::poll_until([&] { return !only(notes("runs"), "run", "late").empty(); }, 10));
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
    BOOST_TEST(test::poll_until(
        [&] {
            return count_in_log("old worker 1 (pid") == 2u &&
                   count_in_log("old worker 2 (pid") == 2u;
        },
        10));
    put("test_record", "after-reload");
    BOOST_TEST(test::poll_until([&] { return notes("runs").size() == 1u; }, 10));
}

BOOST_AUTO_TEST_CASE(ignore_result_drops_the_task_and_counts_it)
{
    put("test_ignore", "i1");
    auto spooler = start();
    BOOST_REQUIRE(
        test::poll_until([&] { return !only(notes("ignore"), "run", "i1").empty(); }, 15));
    BOOST_TEST(test::poll_until([&] { return stat("ignored") == 1; }, 5));
    BOOST_TEST(!test::poll_until([&] { return notes("ignore").size() > 1; }, kDuplicateWindow));
    const auto s = stats();
    for (const char* zero :
         {"done", "retried", "failed", "queue", "scheduled", "running", "failed_folder"})
        BOOST_TEST(s.optional_int(zero).value_or(-1) == 0, zero);
    BOOST_TEST(in(queue.dir()) + in(queue.running_dir()) + in(queue.failed_dir()) == 0u);
    BOOST_TEST(count_in_log("TASK test_ignore:") == 1u);
    BOOST_TEST(count_in_log(" -> ignore ") == 1u);
    // The task's own line names its file too, as the request line names the route's.
    BOOST_TEST(count_in_log("@- test_jobs.cpp test_ignore: ignoring i1") == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_task_moved_back_runs_again_with_its_count_of_failed_runs)
{
    env["APP_SPOOLER_MAX_RETRIES"] = "1";
    put("test_fails", "back");
    auto spooler = start();
    BOOST_REQUIRE(test::poll_until([&] { return in(queue.failed_dir()) == 1; }, 15));
    auto failed = queue.list(queue.failed_dir()).at(0);
    BOOST_TEST(failed.failures == 2);  // the first run and 1 retry
    BOOST_TEST(stat("failed_folder") == 1);
    // Moved back by hand, as an operator does once the cause is fixed.
    std::filesystem::rename(queue.failed_dir() + "/" + failed.stem() + ".task",
                            spool_dir + "/" + failed.stem() + ".task");
    BOOST_REQUIRE(
        test::poll_until([&] { return only(notes("fails"), "run", "back").size() == 3; }, 15));
    // Its third failed run is past spooler_max_retries at once: straight back to failed/, no retry.
    BOOST_REQUIRE(
        test::poll_until([&] { return in(queue.failed_dir()) == 1 && in(queue.dir()) == 0; }, 10));
    BOOST_TEST(queue.list(queue.failed_dir()).at(0).failures == 3);
    BOOST_TEST(!test::poll_until([&] { return only(notes("fails"), "run", "back").size() > 3; },
                                 kDuplicateWindow));
    BOOST_TEST(count_in_log("run 3 failed, no retries left: moved to failed/") == 1u);
}

BOOST_AUTO_TEST_CASE(sigterm_lets_the_task_in_hand_finish_and_one_past_the_grace_runs_again_later)
{
    env["APP_SPOOLER_PROCESSES"] = "2";  // stop_grace_seconds is 3 (the fixture's)
    put("test_slow", "fin", R"(,"first":1,"seconds":0)");
    put("test_slow", "cut", R"(,"first":30,"seconds":0)");
    auto spooler = start();
    BOOST_REQUIRE(test::poll_until(
        [&] {
            return !only(notes("slow"), "start", "fin").empty() &&
                   !only(notes("slow"), "start", "cut").empty();
        },
        15));
    const auto t0 = std::chrono::steady_clock::now();
    const int status = spooler->stop(20);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "status " << status);
    BOOST_TEST(took >= 2.5);  // waited the grace for "cut"
    BOOST_TEST(took < 10.0);  // and no longer than that, with room for a loaded machine
    BOOST_TEST(only(notes("slow"), "end", "fin").size() == 1u);   // finished in hand
    BOOST_TEST(only(notes("slow"), "end", "cut").empty());        // killed
    BOOST_TEST(in(queue.dir()) + in(queue.running_dir()) == 1u);  // "cut" is kept for later
    BOOST_TEST(count_in_log("still busy after the stop grace period") >= 1u);

    auto again = start();  // the next start runs it
    BOOST_TEST(test::poll_until([&] { return !only(notes("slow"), "end", "cut").empty(); }, 20));
    BOOST_TEST(only(notes("slow"), "start", "fin").size() == 1u);  // the finished one is not rerun
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_processes_and_the_master_stays)
{
    env["APP_SPOOLER_PROCESSES"] = "2";
    put("test_record", "before");
    auto spooler = start();
    BOOST_REQUIRE(
        test::poll_until([&] { return only(notes("runs"), "run", "before").size() == 1; }, 15));
    const pid_t old_process = notes("runs").at(0).pid;
    BOOST_REQUIRE(kill(spooler->pid(), SIGHUP) == 0);
    BOOST_TEST(test::poll_until(
        [&] {
            return count_in_log("old worker 1 (pid") == 1u &&
                   count_in_log("old worker 2 (pid") == 1u;
        },
        15));
    BOOST_TEST(kill(old_process, 0) != 0);  // gone (reaped by the master)
    for (int i = 0; i < 4; ++i)
        put("test_record", "after" + std::to_string(i));
    BOOST_REQUIRE(test::poll_until([&] { return notes("runs").size() == 5u; }, 15));
    for (const auto& n : notes("runs"))
        if (n.id != "before")
            BOOST_TEST(n.pid != old_process);
    BOOST_TEST(kill(spooler->pid(), 0) == 0);  // the same master
}

BOOST_AUTO_TEST_SUITE_END()
