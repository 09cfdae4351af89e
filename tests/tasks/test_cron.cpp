// test_cron.cpp: cron as real processes (the test helper: the cron binary's code with the test
// jobs chosen by TEST_CRON_JOBS), with a 2 s time cap.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include "tests/tasks/procs.h"

namespace {

struct CronFixture : test::ProcessFixture {
    CronFixture() { env["APP_CRON_TIME_CAP_SECONDS"] = "2"; }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cron, CronFixture)

BOOST_AUTO_TEST_CASE(timer_runs_every_second_while_a_stuck_job_is_killed_at_its_cap)
{
    env["TEST_CRON_JOBS"] = "test_tick,test_stuck,test_crash";
    {
        test::Helper cron({"cron"}, env);
        test::sleep_for(7.5);
    }  // stopped: SIGTERM

    const auto ticks = notes("tick");
    BOOST_TEST(ticks.size() >= 6u);
    for (std::size_t i = 1; i < ticks.size(); ++i) {  // on time, stuck job or not
        BOOST_TEST(ticks[i].ms - ticks[i - 1].ms >= 500);
        BOOST_TEST(ticks[i].ms - ticks[i - 1].ms <= 1500);
    }
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
}

BOOST_AUTO_TEST_CASE(one_server_guard_lets_one_of_two_cron_processes_run_the_job)
{
    env["TEST_CRON_JOBS"] = "test_guard";
    std::set<pid_t> crons;
    {
        test::Helper a({"cron"}, env);
        test::Helper b({"cron"}, env);
        crons = {a.pid(), b.pid()};
        test::sleep_for(3.6);
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

BOOST_AUTO_TEST_SUITE_END()
