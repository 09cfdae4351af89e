// cron_scheduler.h: the cron scheduler's state, private to app/tasks. Its steps are split by
// concern: cron_runner.cpp (the loop, starting runs, caps, signals, reaping; the main) and
// cron_reload.cpp (the reload: --check, the handover to a re-executed image, the stats view).
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/prefork/reload.h"
#include "app/prefork/stats.h"
#include "app/tasks/cron.h"

namespace tasks {

using Steady = std::chrono::steady_clock;

struct CronRun {
    std::string name;
    const Job* job;                 // nullptr: a run handed over for a job this image lacks
    std::vector<std::string> argv;  // built before fork: the child only execs
    pid_t pid = 0;
    bool killed = false;
    Steady::time_point started{}, deadline{}, next_due{};
};

class Scheduler {
public:
    Scheduler(const Cron& cron, const CronSettings& s, int argc, char** argv);
    int loop();

private:
    // cron_runner.cpp
    int running() const;
    void tick(Steady::time_point now);
    void start(CronRun& r);
    void enforce_caps(Steady::time_point now);
    void wait(Steady::time_point now);
    void on_signal(int sig);
    void reap();
    // cron_reload.cpp
    void adopt();  // the handover of the image before, if this one is a reload
    void open_stats();
    void request_reload(const std::string& why);
    void hand_over();
    void reload_failed(const std::string& error);
    void serve_stats() const;

    CronSettings s_;
    std::string program_;            // the binary on disk: checked, then re-executed on SIGHUP
    std::vector<std::string> args_;  // argv[1..]
    std::vector<CronRun> runs_;
    sigset_t child_mask_{};
    int sfd_ = -1;
    bool stopping_ = false;
    Steady::time_point stop_deadline_{};
    std::int64_t last_minute_ = 0;  // the last minute whose entries were started
    core::MasterCounters counters_;
    std::optional<core::StatsServer> stats_;
    core::ReloadCheck check_{"tasks.cron", [this] { hand_over(); },
                             [this](const std::string& e) { reload_failed(e); }};
    std::string last_reload_error_, build_id_;
    bool reload_pending_ = false, adopted_ = false;
};

}  // namespace tasks
