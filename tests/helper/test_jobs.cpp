// test_jobs.cpp: see test_jobs.h. Lines are "<what> <id> <pid> <ms since the epoch>".
#include "tests/helper/test_jobs.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "app/core/log.h"
#include "app/tasks/cron.h"
#include "app/tasks/spooler.h"

namespace test {
namespace {

using tasks::Task;
using tasks::TaskResult;

const auto lg = core::logger("test.jobs");

std::string test_dir()
{
    const char* d = std::getenv("TASK_TEST_DIR");
    if (!d || !*d)
        throw std::runtime_error("TASK_TEST_DIR is not set");
    return d;
}

// One write(2) with O_APPEND: lines from many processes never mix.
void note(const std::string& file, const std::string& what, const std::string& id, pid_t pid)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    std::ostringstream line;
    line << what << " " << id << " " << pid << " " << ms << "\n";
    const int fd =
        open((test_dir() + "/" + file).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line.str().data(), line.str().size()) < 0)
        throw std::runtime_error("cannot write to " + test_dir() + "/" + file);
    close(fd);
}

void sleep_s(double s)
{
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

TaskResult record(const Task& t)
{
    sleep_s(0.05);
    note("runs", "run", t.args.required_string("id"), getpid());
    return TaskResult::ok;
}

// Sleeps args.first seconds on its first run and args.seconds on later ones.
TaskResult slow(const Task& t)
{
    const auto id = t.args.required_string("id");
    note("slow", "start", id, getpid());
    sleep_s(static_cast<double>(
        t.args.optional_int(t.failures == 0 ? "first" : "seconds").value_or(0)));
    note("slow", "end", id, getpid());
    return TaskResult::ok;
}

// Never succeeds: asks for a retry, or throws when args.throw is true.
TaskResult fails(const Task& t)
{
    const auto id = t.args.required_string("id");
    note("fails", "run", id, getpid());
    if (t.args.optional_bool("throw").value_or(false))
        throw std::runtime_error("boom " + id);
    return TaskResult::retry;
}

bool wanted(const std::string& job)
{
    const char* list = std::getenv("TEST_CRON_JOBS");
    std::stringstream ss(list ? list : "");
    for (std::string item; std::getline(ss, item, ',');)
        if (item == job)
            return true;
    return false;
}

// Notes its run and asks to be dropped: neither done nor failed.
TaskResult ignore(const Task& t)
{
    note("ignore", "run", t.args.required_string("id"), getpid());
    LOG4CPLUS_INFO(lg, "test_ignore: ignoring " << t.args.required_string("id"));  // its own line
    return TaskResult::ignore;
}

}  // namespace

void add_test_tasks(tasks::Registry& r)
{
    r.add("test_record", record, "Notes its id in runs.");
    r.add("test_ignore", ignore, "Notes its id in ignore and returns ignore.");
    r.add("test_slow", slow, "Notes start and end in slow, sleeping in between.");
    r.add("test_fails", fails, "Notes each run in fails and never succeeds.");
}

void add_test_jobs(tasks::Cron& c)
{
    using tasks::Schedule;
    if (wanted("test_tick"))
        c.add(
            "test_tick", Schedule::every(1),
            [] {
                note("tick", "tick", "-", getpid());
                LOG4CPLUS_INFO(lg, "test_tick: ticked");  // a line of its own
            },
            "Notes each run in tick, and logs a line.");
    if (wanted("test_stuck"))
        c.add(
            "test_stuck", Schedule::every(1),
            [] {
                note("stuck", "start", "-", getpid());
                sleep_s(60);
            },
            "Hangs far past its cap.");
    if (wanted("test_crash"))
        c.add(
            "test_crash", Schedule::every(2),
            [] {
                const rlimit none{0, 0};
                setrlimit(RLIMIT_CORE, &none);  // no core file in the working directory
                std::abort();
            },
            "Crashes.");
    if (wanted("test_long"))  // the id is the scheduler's pid: a reload keeps it
        c.add(
            "test_long", Schedule::every(4),
            [] {
                note("long", "start", std::to_string(getppid()), getpid());
                sleep_s(3);
                note("long", "end", std::to_string(getppid()), getpid());
            },
            "Runs 3 s, every 4 s, under a cap of its own (10 s).", 10);
    if (wanted("test_own_cap"))
        c.add(
            "test_own_cap", Schedule::every(1),
            [] {
                note("owncap", "start", "-", getpid());
                sleep_s(60);
            },
            "Hangs past its own cap of 1 s, far below cron_time_cap_seconds.", 1);
    if (wanted("test_minute"))
        c.add(
            "test_minute", Schedule::at(-1), [] { note("minute", "run", "-", getpid()); },
            "Notes each run in minute: every minute (test_cron_minute_seconds long).");
    if (wanted("test_guard"))
        c.add(
            "test_guard", Schedule::every(1),
            [] {
                // A key of this test's own: each test run starts with no period taken.
                const auto key =
                    "test_guard:" + std::filesystem::path(test_dir()).filename().string();
                note("guard", tasks::run_once_per(key, 30 * 86400) ? "ran" : "skip", "-",
                     getppid());
            },
            "Runs on one of the cron processes only.");
}

}  // namespace test
