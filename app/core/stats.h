// stats.h: the master's stats view: a JSON snapshot of the workers and the master's counters,
// served on a unix socket or a loopback TCP address from the poll loop (never blocking it),
// and the client behind `server --stats`.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace core {

struct MasterCounters {
    std::int64_t started = 0;  // unix time of the first start, kept across reloads
    std::int64_t reloads = 0, respawns = 0, harakiri = 0, deaths = 0, retired = 0;
    std::int64_t requests_done = 0;  // served by workers that have exited
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

}  // namespace core
