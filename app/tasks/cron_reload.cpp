// cron_reload.cpp: cron's graceful reload, as the supervisor's (master_reload.cpp). SIGHUP runs the
// binary on disk with --check while the scheduler goes on; when it passes, the scheduler
// re-executes that binary in place (same pid), handing over the runs in progress (their pids, each
// the id of its process group too), the timers' next times, the last minute evaluated and the
// reload counters. The new image reaps those runs, caps them and never starts them twice, and
// starts the entries of every minute after the handed-over one, so a reload skips no due entry and
// repeats none. systemd hears RELOADING=1 at the start and READY=1 at the end, done or aborted;
// the stats socket (cron_stats_listen) lets `cron --reload PID` tell which.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "app/prefork/listen.h"
#include "app/core/log.h"
#include "app/prefork/notify.h"
#include "app/prefork/process.h"
#include "app/tasks/cron_scheduler.h"

namespace tasks {

const char* const kCronHandoverEnv = "CRON_HANDOVER";

namespace {

const auto lg = core::logger("tasks.cron");

// The steady clock is the boot's monotonic clock, the same in both images.
std::int64_t to_ns(Steady::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Steady::time_point from_ns(std::int64_t ns)
{
    return Steady::time_point(
        std::chrono::duration_cast<Steady::duration>(std::chrono::nanoseconds(ns)));
}

// The job name ends each line: it may hold any character but a newline.
std::string rest_of_line(std::istream& in)
{
    std::string name;
    std::getline(in >> std::ws, name);
    return name;
}

}  // namespace

void Scheduler::adopt()
{
    const char* env = std::getenv(kCronHandoverEnv);
    if (!env)
        return;
    std::istringstream in(env);
    unsetenv(kCronHandoverEnv);  // the runs this image starts must not see it
    auto& c = counters_;
    std::size_t handed = 0;
    for (std::string word; in >> word;) {
        if (word == "minute") {
            in >> last_minute_;
        } else if (word == "counters") {
            in >> c.started >> c.reloads >> c.reloads_started >> c.reloads_done >>
                c.reloads_failed >> reload_pending_;
        } else if (word == "run") {
            std::int64_t pid = 0, started = 0, deadline = 0;
            bool killed = false;
            in >> pid >> killed >> started >> deadline;
            const auto name = rest_of_line(in);
            auto it = std::find_if(runs_.begin(), runs_.end(),
                                   [&](const CronRun& r) { return r.job && r.name == name; });
            if (it == runs_.end())  // a job this image lacks: reaped and capped, never started
                it = runs_.insert(runs_.end(), CronRun{name, nullptr, {}});
            it->pid = static_cast<pid_t>(pid);
            it->killed = killed;
            it->started = from_ns(started);
            it->deadline = from_ns(deadline);
            ++handed;
        } else if (word == "timer") {
            std::int64_t next = 0;
            in >> next;
            const auto name = rest_of_line(in);
            for (auto& r : runs_)
                if (r.job && r.name == name && r.job->schedule.every_seconds > 0)
                    r.next_due = from_ns(next);
        } else {
            rest_of_line(in);
        }
    }
    adopted_ = true;
    const std::time_t last = last_minute_ * s_.minute_seconds;
    std::tm local{};
    char at[16] = "";
    std::strftime(at, sizeof at, "%H:%M", localtime_r(&last, &local));
    LOG4CPLUS_INFO(lg, "reload " << c.reloads << ": new image running, build " << build_id_ << "; "
                                 << handed << " runs in progress handed over; the minutes after "
                                 << at << " still to start");
}

void Scheduler::open_stats()
{
    const auto dir = std::filesystem::path(core::unix_socket_path(s_.stats_listen)).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir)) {
        LOG4CPLUS_WARN(lg,
                       "no stats view (cron --stats, --reload): the directory of "
                       "cron_stats_listen "
                           << s_.stats_listen << " does not exist");
    } else {
        try {
            stats_.emplace(s_.stats_listen, "cron_stats_listen");
        } catch (const std::exception& e) {
            if (!adopted_)
                throw;
            LOG4CPLUS_ERROR(lg, "no stats view after the reload: " << e.what());  // keep running
        }
    }
    if (adopted_) {  // counted once the stats can show it, so `cron --reload` sees it done
        ++counters_.reloads_done;
        last_reload_error_.clear();
    }
}

void Scheduler::request_reload(const std::string& why)
{
    if (stopping_)
        return;
    if (check_.running()) {
        if (!reload_pending_)
            LOG4CPLUS_INFO(lg, "reload (" << why << ") waits for the one in progress");
        reload_pending_ = true;
        return;
    }
    reload_pending_ = false;
    ++counters_.reloads_started;
    core::notify_reloading("cron: reload (" + why + ")");
    check_.start(why, program_, args_, child_mask_);
}

void Scheduler::hand_over()
{
    const auto& c = counters_;
    std::ostringstream out;
    out << "minute " << last_minute_ << "\ncounters " << c.started << " " << c.reloads + 1 << " "
        << c.reloads_started << " " << c.reloads_done << " " << c.reloads_failed << " "
        << reload_pending_ << "\n";
    int handed = 0;
    for (const auto& r : runs_) {
        if (r.pid > 0) {
            out << "run " << r.pid << " " << r.killed << " " << to_ns(r.started) << " "
                << to_ns(r.deadline) << " " << r.name << "\n";
            ++handed;
        }
        if (r.job && r.job->schedule.every_seconds > 0)
            out << "timer " << to_ns(r.next_due) << " " << r.name << "\n";
    }
    LOG4CPLUS_INFO(lg, "reload: re-executing " << program_ << "; " << handed
                                               << " runs in progress go on under the new image");
    core::cloexec_from(3);  // the new image needs no descriptor of this one
    setenv(kCronHandoverEnv, out.str().c_str(), 1);
    core::exec_program(program_, args_);
    const int saved = errno;
    unsetenv(kCronHandoverEnv);
    reload_failed("exec " + program_ + ": " + std::strerror(saved));
}

void Scheduler::reload_failed(const std::string& error)
{
    ++counters_.reloads_failed;
    last_reload_error_ = error;
    LOG4CPLUS_ERROR(lg, "reload aborted: " << error << "; the old image keeps running");
    core::notify_ready("cron: running; the last reload was aborted: " + error);
    if (reload_pending_)
        request_reload("one that waited");
}

void Scheduler::serve_stats() const
{
    if (!stats_)
        return;
    stats_->serve([this] {
        core::StatsSnapshot s{"cron", build_id_, getpid(), counters_, last_reload_error_, 0, {}};
        const auto now = Steady::now();
        int id = 0;
        for (const auto& r : runs_) {  // the runs in progress stand as the workers
            ++id;
            if (r.pid <= 0)
                continue;
            core::WorkerStats w;
            w.id = id;
            w.pid = r.pid;
            w.state = "busy";
            w.request = r.name;
            w.request_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - r.started).count();
            w.age_s = w.request_ms / 1000;
            s.workers.push_back(w);
        }
        return core::stats_json(s);
    });
}

}  // namespace tasks
