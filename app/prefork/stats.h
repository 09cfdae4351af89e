// stats.h: the master's stats view: a JSON snapshot of the workers and the master's counters,
// served on a unix socket or a loopback TCP address from the poll loop (never blocking it),
// and the client behind `server --stats`.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace prefork {

struct MasterCounters {
    std::int64_t started = 0;  // unix time of the first start, kept across reloads
    std::int64_t reloads = 0, respawns = 0, harakiri = 0, deaths = 0, retired = 0;
    std::int64_t requests_done = 0;  // served by workers that have exited
    // Reloads: started (a check run for a trigger), done (the new workers up, the old ones told
    // to leave) and failed (aborted: the check failed or could not run, or the exec failed).
    // started - done - failed is the one in progress, if any. `server --reload` waits on them.
    std::int64_t reloads_started = 0, reloads_done = 0, reloads_failed = 0;
};

struct WorkerStats {
    int id = 0;
    pid_t pid = 0;  // 0: waiting to be respawned
    std::string state;
    std::int64_t requests = 0;
    std::string request;  // "GET /path" while busy
    std::int64_t request_ms = 0;
    long rss_kb = 0;
    std::int64_t age_s = 0;
    bool retiring = false;  // a previous binary's worker, finishing after a reload
    std::int64_t respawn_in_ms = 0;
};

struct StatsSnapshot {
    std::string name, build_id;
    pid_t pid = 0;
    MasterCounters counters;
    std::string last_reload_error;      // why the last failed reload of this image failed
    std::int64_t kept_connections = 0;  // from nginx, shared by the workers (conn_table.h)
    std::vector<WorkerStats> workers;
};

std::string stats_json(const StatsSnapshot& s);

// Throws ConfigError naming `key` unless `spec` is "", a unix socket or a loopback address.
void require_local(const char* key, const std::string& spec);

// The stats socket (and the metrics' listener); `spec` "" = off. A TCP address must be on the
// loopback interface (else ConfigError naming `key`).
class StatsServer {
public:
    explicit StatsServer(const std::string& spec, const char* key = "stats_listen");
    ~StatsServer();
    StatsServer(const StatsServer&) = delete;
    StatsServer& operator=(const StatsServer&) = delete;
    int fd() const { return fd_; }
    // Answers every waiting client with one snapshot and closes it; never waits on a client.
    void serve(const std::function<std::string()>& snapshot) const;
    // A waiting client, non-blocking and close-on-exec; -1 when none waits.
    int accept_client() const;

private:
    int fd_ = -1;
    std::string unix_path_;  // removed on the way out
};

// `server --stats`: prints the snapshot from `spec` on stdout; returns the exit code.
int print_stats(const std::string& spec);
// The snapshot from `spec`, "" when none came; throws ConfigError when it cannot connect.
std::string fetch_stats(const std::string& spec);

// `server --reload PID` (systemd's ExecReload): reads the reload counters of the master at `spec`,
// sends it SIGHUP and waits (at most `max_seconds`) for that reload's end. Prints one line and
// returns 0 when it was done, 1 with the reason on stderr when it was aborted (a failed --check,
// a failed exec), the master died or no result came. `program` names it in the messages.
int reload_and_wait(const std::string& program, const std::string& spec, const std::string& pid,
                    int max_seconds = 120);

}  // namespace prefork
