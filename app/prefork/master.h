// master.h: the supervisor's state, private to app/core. Its steps are split by concern:
// supervisor.cpp (the loop, signals, spawning, reaping), master_watch.cpp (the tick: harakiri,
// lifetimes, deadlines; the stats snapshot), master_reload.cpp (reload and handover).
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "app/prefork/conn_hub.h"
#include "app/prefork/metrics.h"
#include "app/prefork/metrics_server.h"
#include "app/prefork/reload.h"
#include "app/prefork/scoreboard.h"
#include "app/prefork/stats.h"
#include "app/prefork/supervisor.h"

namespace core {

using Clock = std::chrono::steady_clock;

struct Worker {
    int id = 0;  // 1..N, its scoreboard slot is id - 1
    pid_t pid = 0;
    Clock::time_point started{}, respawn_at{};
    int fast_deaths = 0;                  // deaths within a second of starting, in a row
    bool ran_before = false;              // the next start is a respawn
    const char* told_to_leave = nullptr;  // why the master sent SIGTERM
    int harakiri_tries = 0;
    Clock::time_point harakiri_at{};
};

// One master image's workers and their scoreboard; after a reload the previous image's workers
// form a retiring generation until they have finished.
struct Generation {
    Scoreboard board;
    std::vector<Worker> workers;
    bool retiring = false;
    bool alive() const;
    bool ready() const;  // every worker has started and reached its accept loop
};

class Master {
public:
    explicit Master(const SupervisorOptions& opt);
    ~Master();
    int run();

private:
    // supervisor.cpp
    void spawn_due(Clock::time_point now);
    void on_signal(int sig);
    void reap();
    void on_exit(Generation& g, Worker& w, int status);
    void stop(const char* why);
    void tell_to_leave(Worker& w, const char* why);
    // master_watch.cpp
    void tick(Clock::time_point now);
    void check_harakiri(Generation& g, Worker& w, std::int64_t now_ms);
    std::string snapshot() const;
    // master_metrics.cpp
    void start_metrics(int handed_fd);
    std::string metrics_text() const;
    // master_reload.cpp
    void adopt(Handover h);
    void request_reload(const std::string& why);
    void hand_over();
    void reload_failed(const std::string& error);
    void retire_old_when_new_ready(Clock::time_point now);
    void tell_ready_once_serving();

    SupervisorOptions opt_;
    sigset_t child_mask_{};
    int sfd_ = -1;
    Generation current_;
    std::optional<Generation> old_;
    std::optional<ConnHub> hub_;  // the shared kept connections, when there is a listening socket
    MasterCounters counters_;
    std::optional<StatsServer> stats_;  // none when stats_listen is off
    MetricsTable metrics_;              // none when metrics_listen is off
    std::optional<MetricsServer> metrics_server_;
    FileWatch reload_file_, binary_;
    ReloadCheck check_{"master", [this] { hand_over(); },
                       [this](const std::string& e) { reload_failed(e); }};
    std::string build_id_;
    std::string last_reload_error_;
    bool reload_pending_ = false;
    bool ready_told_ = false;  // READY=1 sent to systemd for the first start (or a previous image)
    bool stopping_ = false;
    bool old_told_ = false;
    Clock::time_point stop_deadline_{}, old_deadline_{}, next_tick_{}, reload_started_{};
};

}  // namespace core
