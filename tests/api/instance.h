// instance.h: a server of the api tests' own, started from a copy of the server binary with its
// own config overrides, socket, stats socket, reload file and log, reached through the stack's
// nginx at /testinstance/... It leaves the stack's server alone, and stops (SIGTERM, then
// SIGKILL) when the test ends or the test process dies (PR_SET_PDEATHSIG).
#pragma once
#include "tests/support.h"
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace test {

// The stats snapshot, parsed.
struct Stats {
    rapidjson::Document doc;
    bool ok = false;
    std::int64_t num(const char* key) const;
    std::string str(const char* key) const;
    const rapidjson::Value& workers() const { return doc["workers"]; }
    std::vector<pid_t> pids(bool retiring = false) const;  // live workers of one generation
    const rapidjson::Value* busy_with(const std::string& request) const;  // that worker, or null
};
Stats parse_stats(const std::string& json);

class Instance {
public:
    // `name` names the log file (log/instance-<name>.log); `env` adds APP_* overrides (the stats
    // socket is a unix socket in the run directory unless APP_STATS_LISTEN says otherwise; the
    // metrics are off unless APP_METRICS_LISTEN gives an address; APP_LISTEN and APP_RELOAD_FILE
    // are nginx's /testinstance/ socket and reload_file() unless given).
    Instance(const std::string& name, std::map<std::string, std::string> env);
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    static std::string url(const std::string& path) { return "/testinstance" + path; }
    pid_t pid() const { return pid_; }
    const std::string& binary() const { return binary_; }
    const std::string& reload_file() const { return reload_file_; }
    const std::string& run_dir() const { return run_; }
    std::string log() const;
    const std::string& stats_listen() const { return stats_listen_; }
    std::string stats_output() const;  // `server --stats` for this instance
    Stats stats() const;
    // Puts `content` in place of the binary by rename (the way a build or a deploy does).
    void replace_binary(const std::string& content) const;
    // `sig` (SIGTERM, SIGINT or SIGQUIT) and wait up to `seconds`; returns the master's wait
    // status, -1 when it had to be killed.
    int stop(int seconds = 15, int sig = 15);

private:
    std::string run_, binary_, reload_file_, log_file_, stats_listen_;
    std::vector<std::string> env_;
    pid_t pid_ = -1;
};

// An instance of one worker in a crash loop: workers die at start while <run>/instance/<name>
// exists (test_crash_file); the first one, up already, is SIGKILLed. Remove the file to end it.
std::unique_ptr<Instance> crash_looping(const std::string& name);
std::string crash_file(const std::string& name);

// The status of a GET through nginx; 0 when no reply came at all.
int status_of(const std::string& path);
// The same in a thread of its own.
std::future<int> in_background(const std::string& path);

// `each` GETs of `path` from each of `threads` threads; how many got a 200.
long successes(const std::string& path, int threads, int each);
// Waits (up to 5 s) until a worker of `inst` is busy with `request` ("GET /apitest/sleep");
// its (id, pid). REQUIREs one.
std::pair<int, pid_t> busy_worker(const Instance& inst, const std::string& request);
// All `workers` workers are up and idle.
bool all_idle(const Instance& inst, int workers);
// The inodes of the open connections on the instance's socket (nginx's kept ones).
std::set<std::string> instance_connections();
// How often `what` occurs in `text` (log lines).
long occurrences(const std::string& text, const std::string& what);

// The run directory of the stack under test (from $SERVER_PID_FILE).
std::string stack_run_dir();
// The live children of a process, from /proc.
std::set<pid_t> children_of(pid_t parent);

}  // namespace test
