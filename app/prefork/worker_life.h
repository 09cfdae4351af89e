// worker_life.h: a worker's side of the supervisor: it publishes its state in its scoreboard slot
// and, after each request, decides whether to retire (max requests, memory limit), both only once
// it has lived min_worker_lifetime_seconds (docs/design.md#worker-lifetime). Not FastCGI-specific.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "app/prefork/scoreboard.h"
#include "app/core/settings.h"

namespace prefork {

// The server's limits: max_requests, reload_on_rss_mb, min_worker_lifetime_seconds.
struct RecycleLimits {
    std::uint64_t max_requests = 0;  // 0: no limit
    long rss_limit_kb = 0;           // 0: no limit
    int min_lifetime_seconds = 0;    // no recycling before this age
    static std::vector<core::Key> keys();
    static RecycleLimits from(const core::Config& c);
};

class WorkerLife {
public:
    WorkerLife(int worker_number, const RecycleLimits& limits);
    void begin(const std::string& method, const std::string& path);  // a request starts
    bool end();  // it ended; false: leave now, the master starts a fresh worker

private:
    ScoreWriter board_;
    RecycleLimits limits_;
    std::uint64_t requests_ = 0;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// True while `crash_file` (test_crash_file, test mode only) exists ("": never), so the api tests
// can make workers die at start (a crash loop) without touching the binary.
bool crash_at_start(const std::string& crash_file);

// Resident memory of a process in KiB from /proc/<pid>/statm; 0 when it cannot be read.
long rss_kb(pid_t pid);

}  // namespace prefork
