// cron_runner.cpp: the cron binary. The scheduler process logs, so every run is a fork and exec
// of this image with `--job NAME` (never a bare fork: docs/design.md#fork-and-exec), in a process
// group of its own that is killed whole at the time cap. Signals arrive through a signalfd, as in
// the supervisor, so the loop is one poll(). SIGHUP reloads: cron_reload.cpp.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "app/core/config.h"
#include "app/core/log.h"
#include "app/prefork/notify.h"
#include "app/prefork/process.h"
#include "app/core/program.h"
#include "app/prefork/supervisor.h"
#include "app/tasks/cron_scheduler.h"
#include "app/tasks/run_log.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.cron");
using std::chrono::seconds;

constexpr int kSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP};
// Minutes evaluated at once when the clock moved past more than one since the last tick (a reload
// that straddled a minute's start, a clock step): each job due in them starts once.
constexpr std::int64_t kCatchUpMinutes = 5;

std::string describe(int status)
{
    if (WIFSIGNALED(status))
        return std::string("crashed: signal ") + strsignal(WTERMSIG(status));
    return "failed: exit code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

Scheduler::Scheduler(const Cron& cron, const CronSettings& s, int argc, char** argv)
    : s_(s), program_(core::self_path(argv[0])), args_(argv + 1, argv + argc)
{
    const auto now = Steady::now();
    for (const auto& job : cron.jobs()) {
        CronRun r{job.name, &job, {program_}};
        r.argv.insert(r.argv.end(), args_.begin(), args_.end());
        r.argv.insert(r.argv.end(), {"--job", job.name});
        r.next_due = now + seconds(job.schedule.every_seconds);
        runs_.push_back(std::move(r));
    }
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : kSignals)
        sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, &child_mask_);
    for (int sig : kSignals)  // a re-executed image starts with them blocked already; runs must not
        sigdelset(&child_mask_, sig);
    sfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd_ < 0)
        throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    build_id_ = core::file_hash("/proc/self/exe");
    counters_.started = std::time(nullptr);
    // Entries due in the minute cron starts in wait for their next time: a restart within a
    // minute must not run them twice. A reload goes on from the minute the image before reached.
    last_minute_ = std::time(nullptr) / s_.minute_seconds;
    adopt();
    open_stats();
}

int Scheduler::loop()
{
    const auto jobs = std::to_string(
        std::count_if(runs_.begin(), runs_.end(), [](const CronRun& r) { return r.job; }));
    if (adopted_)  // the reload is over: systemd heard RELOADING=1 from the image before
        core::notify_ready("cron: " + jobs + " jobs scheduled after reload " +
                           std::to_string(counters_.reloads));
    else
        core::notify_ready("cron: " + jobs + " jobs scheduled");
    if (reload_pending_)  // a SIGHUP came while the image before was checking the binary
        request_reload("one that waited");
    while (true) {
        const auto now = Steady::now();
        if (!stopping_)
            tick(now);
        enforce_caps(now);
        if (check_.expire(now))
            LOG4CPLUS_ERROR(lg, "reload: the check ran too long; killed");
        if (stopping_ && running() == 0 && !check_.running())
            break;
        wait(now);
        reap();
    }
    LOG4CPLUS_INFO(lg, "cron stopped");
    return 0;
}

int Scheduler::running() const
{
    return static_cast<int>(
        std::count_if(runs_.begin(), runs_.end(), [](const CronRun& r) { return r.pid > 0; }));
}

void Scheduler::tick(Steady::time_point now)
{
    if (const auto m = std::time(nullptr) / s_.minute_seconds; m > last_minute_) {
        std::vector<CronRun*> due;
        for (auto k = std::max(last_minute_ + 1, m - kCatchUpMinutes + 1); k <= m; ++k) {
            const std::time_t t = k * s_.minute_seconds;
            std::tm local{};
            localtime_r(&t, &local);
            for (auto& r : runs_)
                if (r.job && r.job->schedule.matches(local) &&
                    std::find(due.begin(), due.end(), &r) == due.end())
                    due.push_back(&r);
        }
        last_minute_ = m;
        for (auto* r : due)
            start(*r);
    }
    for (auto& r : runs_)
        if (r.job && r.job->schedule.every_seconds > 0 && now >= r.next_due) {
            start(r);
            // Keep to the grid; a time missed while cron was busy is not made up.
            while (r.next_due <= now)
                r.next_due += seconds(r.job->schedule.every_seconds);
        }
}

void Scheduler::start(CronRun& r)
{
    const auto now = Steady::now();
    if (r.pid > 0) {
        char after[32];
        std::snprintf(after, sizeof after, "%.1f s",
                      std::chrono::duration<double>(now - r.started).count());
        LOG4CPLUS_WARN(lg, "job " << r.name << " (pid " << r.pid << ") still runs after " << after
                                  << ": not started again");
        return;
    }
    // This image, as the supervisor's workers: new code only comes with a checked reload.
    const pid_t pid = core::spawn_process("/proc/self/exe", r.argv, {}, child_mask_, true);
    if (pid < 0) {
        LOG4CPLUS_ERROR(lg, "job " << r.name << ": fork failed: " << std::strerror(errno));
        return;
    }
    r.pid = pid;
    r.killed = false;
    r.started = now;
    r.deadline = now + seconds(r.job->cap_seconds > 0 ? r.job->cap_seconds : s_.cap_seconds);
}

void Scheduler::enforce_caps(Steady::time_point now)
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
                lg, "job " << r.name << " (pid " << r.pid << ") killed at its time cap of "
                           << std::chrono::duration_cast<seconds>(r.deadline - r.started).count()
                           << " s");
        else
            LOG4CPLUS_WARN(
                lg, "job " << r.name << " (pid " << r.pid << ") killed: still running at stop");
    }
}

// Sleeps until a signal, a stats client, the next minute, the next timer or the next cap,
// whichever is first.
void Scheduler::wait(Steady::time_point now)
{
    const auto sys_now = std::chrono::system_clock::now().time_since_epoch();
    const auto next_minute = std::time(nullptr) / s_.minute_seconds + 1;
    auto until = now + (seconds(next_minute * s_.minute_seconds) - sys_now);
    for (const auto& r : runs_) {
        if (r.job && r.job->schedule.every_seconds > 0)
            until = std::min(until, r.next_due);
        if (r.pid > 0 && !r.killed)
            until = std::min(until, stopping_ ? stop_deadline_ : r.deadline);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    pollfd p[2] = {{sfd_, POLLIN, 0}, {stats_ ? stats_->fd() : -1, POLLIN, 0}};
    poll(p, 2, static_cast<int>(std::clamp<std::int64_t>(ms + 1, 0, 1000)));
    serve_stats();
    signalfd_siginfo si;
    while (read(sfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
        on_signal(static_cast<int>(si.ssi_signo));
}

void Scheduler::on_signal(int sig)
{
    if (sig == SIGCHLD || stopping_)
        return;
    if (sig == SIGHUP) {
        request_reload("SIGHUP");
        return;
    }
    LOG4CPLUS_INFO(lg, "got " << strsignal(sig) << ": stopping; " << running() << " jobs running");
    stopping_ = true;
    core::notify_stopping(std::string("stopping: ") + strsignal(sig));
    stop_deadline_ = Steady::now() + seconds(s_.grace_seconds);
    check_.cancel();
    for (const auto& r : runs_)
        if (r.pid > 0)
            kill(-r.pid, SIGTERM);
}

void Scheduler::reap()
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (check_.owns(pid)) {
            check_.finish(status, stopping_);
            continue;
        }
        auto it = std::find_if(runs_.begin(), runs_.end(),
                               [pid](const CronRun& r) { return r.pid == pid; });
        if (it == runs_.end())
            continue;
        const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!clean && !it->killed && !stopping_)
            LOG4CPLUS_ERROR(lg, "job " << it->name << " (pid " << pid << ") " << describe(status));
        it->pid = 0;
    }
}

namespace {

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
        {
            const core::LogSource in_job(job->source);  // the job's own lines name its file
            job->fn();
        }
        LOG4CPLUS_INFO(lg, job->source << " JOB " << name << " -> ok " << took(start));
        return 0;
    } catch (const std::exception& e) {
        LOG4CPLUS_ERROR(
            lg, job->source << " JOB " << name << " -> error " << took(start) << ": " << e.what());
        return 1;
    }
}

}  // namespace

int cron_main(int argc, char** argv, const core::SettingsSchema& schema,
              const std::function<void(Cron&)>& add_jobs)
{
    return core::run_main(argc, argv, "cron", schema, [&] {
        const auto settings = core::settings<CronSettings>();
        if (core::has_flag(argc, argv, "--stats"))
            return core::print_stats(settings.stats_listen);
        if (const auto pid = core::flag_value(argc, argv, "--reload"))
            return core::reload_and_wait("cron", settings.stats_listen, *pid);
        Cron cron;
        add_jobs(cron);
        if (core::has_flag(argc, argv, "--check"))  // a reload (SIGHUP) asks first: can it start?
            return 0;
        if (const auto name = core::flag_value(argc, argv, "--job"); name && !name->empty())
            return run_job(cron, *name);
        init_task_logging("cron");
        core::log_to_journal_too();
        Scheduler scheduler(cron, settings, argc, argv);
        std::string list;
        for (const auto& j : cron.jobs())
            list += " " + j.name + " (" + j.schedule.str() + ")";
        LOG4CPLUS_INFO(lg, "cron pid " << getpid() << " starting; jobs:" << list);
        return scheduler.loop();
    });
}

}  // namespace tasks
