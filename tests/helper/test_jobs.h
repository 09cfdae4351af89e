// test_jobs.h: tasks and cron jobs for the tasks suite only, never in the real binaries. Each
// writes what it did as one line into a file in $TASK_TEST_DIR, which the tests read.
#pragma once

namespace tasks {
class Registry;
class Cron;
}  // namespace tasks

namespace test {

void add_test_tasks(tasks::Registry& r);
// Only the jobs named in $TEST_CRON_JOBS (comma-separated), so each test runs what it checks.
void add_test_jobs(tasks::Cron& c);

}  // namespace test
