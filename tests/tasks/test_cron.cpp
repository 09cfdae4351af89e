// test_cron.cpp: cron as real processes (the test helper: the cron binary's code with the test
// jobs chosen by TEST_CRON_JOBS), with a 2 s time cap; and its graceful reload (SIGHUP).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/tasks/procs.h"

namespace {

struct CronFixture : test::ProcessFixture {
    std::string stats_sock = tmp.path + "/cron-stats.sock";

    CronFixture() { env["APP_CRON_TIME_CAP_SECONDS"] = "2"; }

    void stats_on() { env["APP_CRON_STATS_LISTEN"] = "unix:" + stats_sock; }

    // `cron --reload PID` as systemd's ExecReload runs it, with cron's config; its output and
    // "exit N".
    std::string reload(pid_t pid) const
    {
        std::string cmd = "timeout 60 env";
        for (const auto& [k, v] : env)
            cmd += " " + k + "='" + v + "'";
        cmd += std::string(" " TASK_HELPER " cron --reload ") + std::to_string(pid) +
               "; echo \"exit $?\"";
        return test::command_output(cmd);
    }

    std::size_t at_in_log(const std::string& text) const { return log().find(text); }
};

std::size_t count_of(const std::vector<test::Note>& notes, const std::string& what)
{
    return static_cast<std::size_t>(std::count_if(
        notes.begin(), notes.end(), [&](const test::Note& n) { return n.what == what; }));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cron, CronFixture)

BOOST_AUTO_TEST_CASE(timer_runs_every_second_while_a_stuck_job_is_killed_at_its_cap)
{
    env["TEST_CRON_JOBS"] = "test_tick,test_stuck,test_crash";
    {
        test::Helper cron({"cron"}, env);
        BOOST_TEST(test::poll_until(
            [&] {
                return notes("tick").size() >= 7 && notes("stuck").size() >= 2 &&
                       count_in_log(") crashed: signal Aborted") >= 2 &&
                       count_in_log("killed at its time cap of 2 s") >= 1;
            },
            30));
    }  // stopped: SIGTERM

    const auto ticks = notes("tick");
    BOOST_TEST(ticks.size() >= 7u);
    // On time, stuck job or not: a scheduler held up by the stuck run (its cap is 2 s) would
    // space every tick 2 s or more apart. Each tick is started by a fork and an exec, which a
    // loaded 2-core machine may delay now and then: one late tick is allowed a long gap (and the
    // short one after it), most gaps must be short and the mean gap is held near the second.
    std::size_t long_gaps = 0;
    for (std::size_t i = 1; i < ticks.size(); ++i) {
        BOOST_TEST(ticks[i].ms - ticks[i - 1].ms >= 100);  // no tick run twice
        long_gaps += ticks[i].ms - ticks[i - 1].ms >= 1900;
    }
    BOOST_TEST(long_gaps <= 1u);
    const double mean = static_cast<double>(ticks.back().ms - ticks.front().ms) /
                        static_cast<double>(ticks.size() - 1);
    BOOST_TEST(mean >= 900.0);
    BOOST_TEST(mean <= 1500.0);
    const auto stuck = notes("stuck");
    BOOST_TEST(stuck.size() >= 2u);  // killed at the cap, so the schedule goes on
    std::set<pid_t> pids;
    for (std::size_t i = 0; i < stuck.size(); ++i) {
        pids.insert(stuck[i].pid);
        if (i > 0)  // due every second, but never started while the last run goes on
            BOOST_TEST(stuck[i].ms - stuck[i - 1].ms >= 1900);
    }
    BOOST_TEST(pids.size() == stuck.size());
    BOOST_TEST(count_in_log("killed at its time cap of 2 s") >= 1u);
    BOOST_TEST(count_in_log("job test_stuck (pid ") >= 2u);
    BOOST_TEST(count_in_log(" s: not started again") >= 1u);
    BOOST_TEST(count_in_log(") crashed: signal Aborted") >= 2u);
    BOOST_TEST(count_in_log("job test_crash (pid ") >= 2u);
    BOOST_TEST(count_in_log("INFO  cron@- test_jobs.cpp JOB test_tick -> ok ") >= 6u);
    // The job's own lines name its file too, as the request line names the route's.
    BOOST_TEST(count_in_log("INFO  cron@- test_jobs.cpp test_tick: ticked") >= 6u);
}

BOOST_AUTO_TEST_CASE(one_server_guard_lets_one_of_two_cron_processes_run_the_job)
{
    env["TEST_CRON_JOBS"] = "test_guard";
    std::set<pid_t> crons;
    {
        test::Helper a({"cron"}, env);
        test::Helper b({"cron"}, env);
        crons = {a.pid(), b.pid()};
        // Both processes ran the job's check at least twice (the one that ran it, later skipped).
        BOOST_TEST(test::poll_until(
            [&] {
                std::map<pid_t, int> checks;
                for (const auto& n : notes("guard"))
                    ++checks[n.pid];
                return checks.size() == 2 && checks.begin()->second >= 2 &&
                       checks.rbegin()->second >= 2;
            },
            15));
    }
    const auto guard = notes("guard");
    std::set<pid_t> ran, skipped;
    for (const auto& n : guard)
        (n.what == "ran" ? ran : skipped).insert(n.pid);
    BOOST_TEST(std::count_if(guard.begin(), guard.end(),
                             [](const test::Note& n) { return n.what == "ran"; }) == 1);
    BOOST_REQUIRE(ran.size() == 1u);
    BOOST_TEST(crons.count(*ran.begin()) == 1u);
    BOOST_TEST((skipped == crons));  // both processes ran the job's check, every second
}

BOOST_AUTO_TEST_CASE(reload_lets_a_long_run_finish_once_and_the_next_run_comes)
{
    env["TEST_CRON_JOBS"] = "test_long,test_stuck";
    stats_on();
    test::Helper cron({"cron"}, env);
    BOOST_REQUIRE(test::poll_until([&] { return std::filesystem::exists(stats_sock); }, 10));
    // Reload while test_long runs (3 s from its start at 4 s) and a test_stuck run has just
    // started (at 4 s too; its cap of 2 s ends it under the new image).
    BOOST_REQUIRE(test::poll_until(
        [&] {
            const auto stuck = notes("stuck"), lng = notes("long");
            return count_of(lng, "start") == 1 && count_of(lng, "end") == 0 && !stuck.empty() &&
                   test::now_ms() - stuck.back().ms < 800;
        },
        12));
    const auto reload_ms = test::now_ms();
    const pid_t stuck_pid = notes("stuck").back().pid;
    const auto out = reload(cron.pid());
    BOOST_TEST(out.find("cron: reload 1 done: build ") == 0u, out);
    BOOST_TEST(out.find("exit 0") != std::string::npos, out);
    BOOST_TEST(count_in_log("2 runs in progress handed over") == 1u);

    BOOST_REQUIRE(test::poll_until([&] { return count_of(notes("long"), "start") >= 2; }, 10));
    const auto lng = notes("long");
    BOOST_REQUIRE(lng.size() >= 3u);
    BOOST_TEST(lng[0].what == "start");
    BOOST_TEST(lng[1].what == "end");  // finished, once, not started again meanwhile
    BOOST_TEST(lng[1].pid == lng[0].pid);
    BOOST_TEST(lng[0].ms <= reload_ms);  // the poll above saw it: written by then, maybe that ms
    BOOST_TEST(lng[1].ms > reload_ms);
    BOOST_TEST(lng[1].ms - lng[0].ms >= 2900);  // not cut short
    BOOST_TEST(lng[2].what == "start");         // the next due run, under the new image
    BOOST_TEST(lng[2].pid != lng[0].pid);
    for (const auto& n : lng)  // one scheduler: the reload kept its pid
        BOOST_TEST(n.id == std::to_string(cron.pid()));
    BOOST_TEST(count_in_log("job test_long (pid") == 0u);  // never killed, crashed or doubled

    // The new image caps the run it was handed.
    const std::string killed =
        "job test_stuck (pid " + std::to_string(stuck_pid) + ") killed at its time cap of 2 s";
    BOOST_REQUIRE(test::poll_until([&] { return count_in_log(killed) == 1; }, 5));
    BOOST_TEST(at_in_log("reload 1: new image running") < at_in_log(killed));
}

BOOST_AUTO_TEST_CASE(entry_due_in_the_minute_of_a_reload_runs_once)
{
    constexpr std::int64_t kMinuteMs = 2000;  // test_cron_minute_seconds
    env["TEST_CRON_JOBS"] = "test_minute";
    env["APP_TEST_CRON_MINUTE_SECONDS"] = "2";
    env["TEST_CRON_REEXEC_DELAY_MS"] = "1000";  // the new image starts 1 s after the exec
    test::Helper cron({"cron"}, env);
    BOOST_REQUIRE(test::poll_until([&] { return notes("minute").size() >= 2; }, 8));
    // SIGHUP 0.5 s before a minute starts: the old image execs before it, the new one starts
    // about 0.5 s into it, so that minute's entry is due between the two images' ticks.
    BOOST_REQUIRE(test::poll_until(
        [] {
            const auto phase = test::now_ms() % kMinuteMs;
            return phase >= 1400 && phase < 1600;
        },
        3));
    const auto hup_ms = test::now_ms();
    kill(cron.pid(), SIGHUP);
    const std::int64_t gap_minute = hup_ms / kMinuteMs + 1;
    BOOST_REQUIRE(
        test::poll_until([&] { return count_in_log("reload 1: new image running") == 1; }, 10));
    BOOST_REQUIRE(test::poll_until(
        [&] {
            const auto n = notes("minute");
            return !n.empty() && n.back().ms / kMinuteMs >= gap_minute + 2;
        },
        10));

    const auto runs = notes("minute");
    std::string minutes;
    for (const auto& n : runs)
        minutes += " " + std::to_string(n.ms / kMinuteMs - gap_minute);
    for (std::size_t i = 1; i < runs.size(); ++i)  // every minute once: none skipped, none twice
        BOOST_TEST(runs[i].ms / kMinuteMs == runs[i - 1].ms / kMinuteMs + 1,
                   "minutes, the reload's as 0:" << minutes);
    const auto gap = std::find_if(runs.begin(), runs.end(), [&](const test::Note& n) {
        return n.ms / kMinuteMs == gap_minute;
    });
    BOOST_REQUIRE(gap != runs.end());
    BOOST_TEST(gap->ms >= hup_ms + 1000);  // run by the new image, after its slow start
    BOOST_TEST(count_in_log("reload aborted") == 0u);
}

BOOST_AUTO_TEST_CASE(reload_into_a_binary_that_fails_its_check_keeps_the_old_image)
{
    env["TEST_CRON_JOBS"] = "test_tick";
    stats_on();
    const std::string binary = tmp.path + "/cron-copy";  // the binary on disk a reload runs
    std::filesystem::copy_file(TASK_HELPER, binary);
    const auto put_binary = [&](const std::string& content_from) {
        const auto next = binary + ".next";
        std::filesystem::copy_file(content_from, next);
        std::filesystem::permissions(next, std::filesystem::perms::owner_all);
        std::filesystem::rename(next, binary);  // as a deploy does: never a half-written file
    };
    test::Helper cron({"cron"}, env, binary);
    BOOST_REQUIRE(test::poll_until(
        [&] { return std::filesystem::exists(stats_sock) && !notes("tick").empty(); }, 10));
    const std::string broken = tmp.path + "/broken";
    std::ofstream(broken) << "#!/bin/sh\necho 'broken on purpose'\nexit 1\n";
    put_binary(broken);

    const auto out = reload(cron.pid());
    BOOST_TEST(out.find("cron: reload aborted") == 0u, out);
    BOOST_TEST(
        out.find(binary + " --check failed (exit code 1: broken on purpose)") != std::string::npos,
        out);
    BOOST_TEST(out.find("exit 1") != std::string::npos, out);
    BOOST_TEST(count_in_log("reload aborted: " + binary + " --check failed") == 1u);
    // The old image goes on, and so do its runs: they run its own image, not the file on disk.
    const auto after = test::now_ms();
    BOOST_TEST(test::poll_until(
        [&] {
            const auto ticks = notes("tick");
            return std::count_if(ticks.begin(), ticks.end(),
                                 [&](const test::Note& n) { return n.ms > after; }) >= 2;
        },
        5));
    BOOST_TEST(kill(cron.pid(), 0) == 0);
    BOOST_TEST(count_in_log("new image running") == 0u);

    put_binary(TASK_HELPER);  // fixed: the next reload is done
    const auto fixed = reload(cron.pid());
    BOOST_TEST(fixed.find("cron: reload 1 done") == 0u, fixed);
    BOOST_TEST(fixed.find("exit 0") != std::string::npos, fixed);
}

BOOST_AUTO_TEST_CASE(a_job_is_killed_at_its_own_cap_below_the_global_one)
{
    env["TEST_CRON_JOBS"] = "test_own_cap";
    env["APP_CRON_TIME_CAP_SECONDS"] = "30";
    test::Helper cron({"cron"}, env);
    BOOST_REQUIRE(test::poll_until([&] { return !notes("owncap").empty(); }, 10));
    const std::string killed = "job test_own_cap (pid " +
                               std::to_string(notes("owncap").at(0).pid) +
                               ") killed at its time cap of 1 s";
    BOOST_TEST(test::poll_until([&] { return count_in_log(killed) == 1; }, 5), log());
    BOOST_TEST(count_in_log("time cap of 30 s") == 0u);
    // Killed, so the next run starts: runs about a second apart, not one run for 30 s.
    BOOST_TEST(test::poll_until([&] { return notes("owncap").size() >= 3; }, 10));
}

BOOST_AUTO_TEST_CASE(an_at_schedule_skips_the_start_minute_and_makes_up_no_missed_minute)
{
    constexpr std::int64_t kMinuteMs = 3000;  // test_cron_minute_seconds
    env["TEST_CRON_JOBS"] = "test_minute";
    env["APP_TEST_CRON_MINUTE_SECONDS"] = "3";
    // Start early in a minute, so cron surely starts in it (2.6 s for a slow start).
    BOOST_REQUIRE(test::poll_until([] { return test::now_ms() % kMinuteMs < 400; }, 4));
    const std::int64_t start_minute = test::now_ms() / kMinuteMs;
    test::Helper cron({"cron"}, env);
    BOOST_REQUIRE(test::poll_until([&] { return !notes("minute").empty(); }, 10));
    // at(-1) is due every minute, the start minute too: it waits for the next.
    BOOST_TEST(notes("minute").at(0).ms / kMinuteMs == start_minute + 1);

    // Missed minutes: cron held (SIGSTOP) for two and a half of them, then let go: the minute
    // it wakes in runs the job once, the ones it slept through are not made up.
    BOOST_REQUIRE(kill(cron.pid(), SIGSTOP) == 0);
    const auto stop_ms = test::now_ms();
    test::sleep_for(2.5 * kMinuteMs / 1000.0);
    const auto cont_ms = test::now_ms();
    BOOST_REQUIRE(kill(cron.pid(), SIGCONT) == 0);
    const auto after = [&] {
        std::vector<test::Note> out;
        for (const auto& n : notes("minute"))
            if (n.ms >= cont_ms)
                out.push_back(n);
        return out;
    };
    BOOST_REQUIRE(test::poll_until([&] { return after().size() >= 2; }, 10));
    const auto runs = after();
    BOOST_TEST(runs[0].ms - cont_ms < 1500);  // the minute it woke in, at once
    BOOST_TEST(runs[1].ms / kMinuteMs == runs[0].ms / kMinuteMs + 1);  // then the next, once
    for (const auto& n : notes("minute"))
        BOOST_TEST(!(n.ms > stop_ms + 200 && n.ms < cont_ms), "a run while cron was held");
    std::set<std::int64_t> minutes;
    for (const auto& n : notes("minute"))
        BOOST_TEST(minutes.insert(n.ms / kMinuteMs).second,
                   "two runs in minute " << n.ms / kMinuteMs);
}

BOOST_AUTO_TEST_CASE(sigterm_stops_the_runs_in_progress_and_cron)
{
    env["TEST_CRON_JOBS"] = "test_stuck";
    env["APP_CRON_TIME_CAP_SECONDS"] = "30";
    env["APP_STOP_GRACE_SECONDS"] = "10";  // far from the few seconds a SIGTERMed run takes
    test::Helper cron({"cron"}, env);
    BOOST_REQUIRE(test::poll_until([&] { return !notes("stuck").empty(); }, 10));
    const pid_t run = notes("stuck").at(0).pid;
    const auto t0 = std::chrono::steady_clock::now();
    const int status = cron.stop(15);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "status " << status);
    // The run got SIGTERM at once: cron did not have to wait out the grace and SIGKILL it.
    BOOST_TEST(took < 6.0);
    BOOST_TEST(count_in_log("stopping; 1 jobs running") == 1u);
    BOOST_TEST(count_in_log("killed: still running at stop") == 0u);
    BOOST_TEST(count_in_log("cron stopped") == 1u);
    const bool gone = test::poll_until([&] { return kill(run, 0) != 0; }, 2);
    BOOST_TEST(gone, "the job run " << run << " outlived cron");
    if (!gone)
        kill(run, SIGKILL);
}

BOOST_AUTO_TEST_SUITE_END()
