// reload.h: the pieces of a graceful reload. The master watches the reload file and (in local
// development) its own binary, runs the binary on disk with --check, and when that passes
// re-executes it in place: same pid, the listening socket and the old workers handed over to the
// new image, which starts new workers and then lets the old ones finish and leave.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <log4cplus/logger.h>

#include "app/prefork/stats.h"

namespace core {

// What one master image hands the next through its environment.
struct Handover {
    int listen_fd = -1;
    MasterCounters counters;
    int board_fd = -1, board_slots = 0;          // the old workers' scoreboard
    int metrics_fd = -1;                         // the request metrics table (metrics.h)
    std::vector<std::pair<int, pid_t>> workers;  // (id, pid) of the old workers
    int conn_table_fd = -1, conn_poll_fd = -1;   // the shared connections (conn_table.h)
    std::map<pid_t, int> channels;               // each old worker's channel (its master end)
    std::vector<int> keep_fds;                   // more fds to keep open: channels, connections
    std::string program_stamp, reload_stamp;     // what the watches had seen
    bool reload_pending = false;                 // a trigger came during the check: reload again
};

// In the new image: the handover, read from the environment and removed from it (so workers never
// see it); nullopt on a normal start.
std::optional<Handover> take_handover();
// The listening socket a reload handed over, -1 when there is none (read before take_handover).
int inherited_listen_fd();
// The server's socket: the one a reload handed over, else spawn-fcgi's fd 0, else `spec` bound
// (listen.h).
int server_socket(const std::string& spec);

// Keeps the handed-over fds (listening socket, scoreboard, metrics, keep_fds) open across exec
// and execs `program` with `args`; returns only when exec failed
// (with errno set), after restoring close-on-exec.
void reexec(const std::string& program, const std::vector<std::string>& args, const Handover& h);

// A file polled once a tick: changed() is true once per change of its stamp (a touch, a rename
// over it). With `settle`, a change counts only once the file stayed the same for a whole tick,
// as a linker writes a binary over time.
class FileWatch {
public:
    FileWatch() = default;
    FileWatch(std::string path, bool settle, std::string baseline);
    bool changed();
    const std::string& stamp() const { return seen_; }
    const std::string& path() const { return path_; }
    explicit operator bool() const { return !path_.empty(); }

private:
    std::string path_, seen_, pending_;
    bool settle_ = false;
};

// `program --check` for a reload: the new binary loads its config and routes and exits 0, run as a
// child with its output captured, so the master's loop goes on while it runs. The server's master
// and cron's scheduler each hold one, with what a passed and a failed check lead to.
class ReloadCheck {
public:
    ReloadCheck(const std::string& log_name, std::function<void()> on_passed,
                std::function<void(const std::string&)> on_failed);
    bool running() const { return pid_ > 0; }
    bool owns(pid_t pid) const { return pid == pid_ && pid_ > 0; }
    // Starts `program args --check` for the reload `why` (logged); on_failed when it cannot run.
    void start(const std::string& why, const std::string& program,
               const std::vector<std::string>& args, const sigset_t& mask);
    // The check child exited. Passed: on_passed, unless the binary was replaced meanwhile (a build
    // or a deploy still writing it): then the same reload checks the new one. Failed: on_failed
    // with the status and the check's output. While stopping: nothing but the reaping.
    void finish(int status, bool stopping);
    // Kills a check that runs too long; true when it did.
    bool expire(std::chrono::steady_clock::time_point now);
    void cancel();  // kills it (a stop); its exit is still reaped through finish()

private:
    log4cplus::Logger lg_;
    std::function<void()> on_passed_;
    std::function<void(const std::string&)> on_failed_;
    pid_t pid_ = 0;
    int out_ = -1;
    std::chrono::steady_clock::time_point deadline_{};
    std::string program_, stamp_;  // the binary checked, and its stamp when the check started
    std::vector<std::string> args_;
    sigset_t mask_{};
};

}  // namespace core
