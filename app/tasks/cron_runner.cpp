// cron_runner.cpp: the cron binary. The scheduler process logs, so every run is a fork and exec
// of this binary with `--job NAME` (never a bare fork: LIBRARIES.md 8), in a process group of its
// own that is killed whole at the time cap. Signals arrive through a signalfd, as in the
// supervisor, so the loop is one poll().
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/notify.h"
#include "app/core/program.h"
#include "app/core/supervisor.h"
#include "app/tasks/cron.h"
#include "app/tasks/run_log.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.cron");
using Steady = std::chrono::steady_clock;
using std::chrono::seconds;

struct Run {
    const Job* job;
    std::vector<std::string> argv;  // built before fork: the child only execs
    pid_t pid = 0;
    bool killed = false;
    Steady::time_point started{}, deadline{}, next_due{};
};

std::int64_t minute_now() { return std::time(nullptr) / 60; }

std::string describe(int status)
{
    if (WIFSIGNALED(status))
        return std::string("crashed: signal ") + strsignal(WTERMSIG(status));
    return "failed: exit code " + std::to_string(WEXITSTATUS(status));
}

class Scheduler {
public:
    Scheduler(const Cron& cron, int argc, char** argv)
        : cap_(static_cast<int>(core::config().integer("cron_time_cap_seconds")))
        , grace_(static_cast<int>(core::config().integer("stop_grace_seconds")))
    {
        if (cap_ <= 0)
            throw core::ConfigError("cron_time_cap_seconds must be > 0");
        const auto now = Steady::now();
        for (const auto& job : cron.jobs()) {
            Run r{&job, {core::self_path()}};
            r.argv.insert(r.argv.end(), argv + 1, argv + argc);
            r.argv.insert(r.argv.end(), {"--job", job.name});
            r.next_due = now + seconds(job.schedule.every_seconds);
            runs_.push_back(std::move(r));
        }
        sigset_t mask;
        sigemptyset(&mask);
        for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP})
            sigaddset(&mask, s);
        sigprocmask(SIG_BLOCK, &mask, &old_mask_);
        sfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd_ < 0)
            throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    }

    int loop()
    {
        // Entries due in the minute cron starts in wait for their next time: a restart within a
        // minute must not run them twice.
        auto last_minute = minute_now();
        core::notify_ready("cron: " + std::to_string(runs_.size()) + " jobs scheduled");
        while (true) {
            auto now = Steady::now();
            if (!stopping_) {
                if (const auto m = minute_now(); m > last_minute) {
                    last_minute = m;
                    const std::time_t t = m * 60;
                    std::tm local{};
                    localtime_r(&t, &local);
                    for (auto& r : runs_)
                        if (r.job->schedule.matches(local))
                            start(r);
                }
                for (auto& r : runs_)
                    if (r.job->schedule.every_seconds > 0 && now >= r.next_due) {
                        start(r);
                        // Keep to the grid; a time missed while cron was busy is not made up.
                        while (r.next_due <= now)
                            r.next_due += seconds(r.job->schedule.every_seconds);
                    }
            }
            enforce_caps(now);
            if (stopping_ && running() == 0)
                break;
            wait(now);
            reap();
        }
        LOG4CPLUS_INFO(lg, "cron stopped");
        return 0;
    }

private:
    int running() const
    {
        return static_cast<int>(
            std::count_if(runs_.begin(), runs_.end(), [](const Run& r) { return r.pid > 0; }));
    }

    void start(Run& r)
    {
        const auto now = Steady::now();
        if (r.pid > 0) {
            char after[32];
            std::snprintf(after, sizeof after, "%.1f s",
                          std::chrono::duration<double>(now - r.started).count());
            LOG4CPLUS_WARN(lg, "job " << r.job->name << " (pid " << r.pid << ") still runs after "
                                      << after << ": not started again");
            return;
        }
        std::vector<char*> argv;
        for (auto& a : r.argv)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t pid = fork();
        if (pid == 0) {  // no logging, no allocation: restore the signal mask, own group, exec
            sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
            setpgid(0, 0);
            execv(argv[0], argv.data());
            _exit(127);
        }
        if (pid < 0) {
            LOG4CPLUS_ERROR(lg, "job " << r.job->name << ": fork failed: " << std::strerror(errno));
            return;
        }
        setpgid(pid, pid);  // in both processes, so the group exists before either relies on it
        r.pid = pid;
        r.killed = false;
        r.started = now;
        r.deadline = now + seconds(r.job->cap_seconds > 0 ? r.job->cap_seconds : cap_);
    }

    void enforce_caps(Steady::time_point now)
    {
        for (auto& r : runs_) {
            if (r.pid <= 0 || r.killed)
                continue;
            const bool over_cap = now >= r.deadline;
            const bool over_grace = stopping_ && now >= stop_deadline_;
            if (!over_cap && !over_grace)
                continue;
            kill(-r.pid, SIGKILL);
            r.killed = true;
            if (over_cap)
                LOG4CPLUS_ERROR(
                    lg,
                    "job " << r.job->name << " (pid " << r.pid << ") killed at its time cap of "
                           << std::chrono::duration_cast<seconds>(r.deadline - r.started).count()
                           << " s");
            else
                LOG4CPLUS_WARN(lg, "job " << r.job->name << " (pid " << r.pid
                                          << ") killed: still running at stop");
        }
    }

    // Sleeps until a signal, the next minute, the next timer or the next cap, whichever is first.
    void wait(Steady::time_point now)
    {
        const auto sys_now = std::chrono::system_clock::now().time_since_epoch();
        auto until = now + (seconds((minute_now() + 1) * 60) - sys_now);
        for (const auto& r : runs_) {
            if (r.job->schedule.every_seconds > 0)
                until = std::min(until, r.next_due);
            if (r.pid > 0 && !r.killed)
                until = std::min(until, stopping_ ? stop_deadline_ : r.deadline);
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        pollfd p{sfd_, POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(ms + 1, 0, 1000)));
        signalfd_siginfo si;
        while (read(sfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            const int sig = static_cast<int>(si.ssi_signo);
            if (sig == SIGCHLD || stopping_)
                continue;
            if (sig == SIGHUP) {
                LOG4CPLUS_INFO(lg, "got SIGHUP: nothing to reload; restart cron to load new jobs");
                continue;
            }
            LOG4CPLUS_INFO(
                lg, "got " << strsignal(sig) << ": stopping; " << running() << " jobs running");
            stopping_ = true;
            core::notify_stopping(std::string("stopping: ") + strsignal(sig));
            stop_deadline_ = Steady::now() + seconds(grace_);
            for (const auto& r : runs_)
                if (r.pid > 0)
                    kill(-r.pid, SIGTERM);
        }
    }

    void reap()
    {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = std::find_if(runs_.begin(), runs_.end(),
                                   [pid](const Run& r) { return r.pid == pid; });
            if (it == runs_.end())
                continue;
            const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!clean && !it->killed && !stopping_)
                LOG4CPLUS_ERROR(
                    lg, "job " << it->job->name << " (pid " << pid << ") " << describe(status));
            it->pid = 0;
        }
    }

    std::vector<Run> runs_;
    int cap_, grace_;
    sigset_t old_mask_{};
    int sfd_ = -1;
    bool stopping_ = false;
    Steady::time_point stop_deadline_{};
};

// One run of a job, in its own process: the log line has the request log's shape.
int run_job(const Cron& cron, const std::string& name)
{
    init_task_logging("cron");
    const Job* job = cron.find(name);
    if (!job) {
        LOG4CPLUS_ERROR(lg, "no cron job named " << name);
        return 2;
    }
    const auto start = Steady::now();
    try {
        job->fn();
        LOG4CPLUS_INFO(lg, job->source << " JOB " << name << " -> ok " << took(start));
        return 0;
    } catch (const std::exception& e) {
        LOG4CPLUS_ERROR(
            lg, job->source << " JOB " << name << " -> error " << took(start) << ": " << e.what());
        return 1;
    }
}

std::string job_arg(int argc, char** argv)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--job") == 0)
            return argv[i + 1];
    return "";
}

}  // namespace

int cron_main(int argc, char** argv, const std::function<void(Cron&)>& add_jobs)
{
    return core::run_main(argc, argv, "cron", [&] {
        Cron cron;
        add_jobs(cron);
        if (const auto name = job_arg(argc, argv); !name.empty())
            return run_job(cron, name);
        init_task_logging("cron");
        core::log_to_journal_too();
        Scheduler scheduler(cron, argc, argv);
        std::string list;
        for (const auto& j : cron.jobs())
            list += " " + j.name + " (" + j.schedule.str() + ")";
        LOG4CPLUS_INFO(lg, "cron pid " << getpid() << " starting; jobs:" << list);
        return scheduler.loop();
    });
}

}  // namespace tasks
