// supervisor.h: the prefork master of both the server and the spooler: forks and execs N
// workers, watches them through the scoreboard (harakiri, max lifetime), respawns the dead with a
// brake on crash loops, reloads gracefully by re-executing the binary on disk, stops gracefully,
// tells systemd (notify.h) and serves its stats; for the server also the metrics and the kept
// connections the workers share (conn_hub.h). Nothing in it speaks FastCGI: a worker is
// `program --worker N` (listening socket on fd 0, scoreboard on fd 3, see worker_life.h), and
// `program --check` must exit 0 when that binary can serve (a reload runs it first).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/core/settings.h"

namespace prefork {

// The defaults below are for callers that fill the options themselves (the spooler); the
// config's defaults are in keys().
struct SupervisorOptions {
    std::string name = "server";  // for the log and the stats
    int workers = 4;
    std::string program;            // the binary on disk: checked, then re-executed on reload
    std::vector<std::string> args;  // its arguments; "--worker <n>" is appended for a worker
    int listen_fd = -1;             // handed to each worker as fd 0; -1: none
    int connection_slots = 0;     // kept connections shared by the workers (conn_table.h); 0: none
    int stop_grace_seconds = 30;  // after SIGTERM to the workers, then SIGKILL
    int harakiri_seconds = 20;    // a request running longer: SIGKILL; 0: off
    int max_lifetime_seconds = 36000;  // a worker older than this retires gracefully; 0: off
    int reload_mercy_seconds = 60;     // old workers' time to finish after a reload
    std::string reload_file;           // a touch reloads; "": off
    bool reload_on_rebuild = false;    // a change of `program` on disk reloads
    std::string stats_listen;          // "unix:/path" or "127.0.0.1:port"; "": off
    // Metrics (metrics.h), set by the server's main only: where GET /metrics is served ("": off),
    // the (method, pattern) of each route, and more text for the page (the spool's).
    std::string metrics_listen;
    std::vector<std::pair<std::string, std::string>> metric_routes;
    std::function<std::string()> extra_metrics;

    // The server's keys: workers, stop_grace_seconds (the spooler's and cron's too),
    // harakiri_seconds, max_worker_lifetime_seconds, reload_mercy_seconds, reload_file,
    // reload_on_rebuild (only with local_dev), stats_listen.
    static std::vector<core::Key> keys();
    static SupervisorOptions from(const core::Config& c);
};

// The server's options (settings<SupervisorOptions>()) with `program` this binary and `args`
// argv[1..].
SupervisorOptions supervisor_options(int argc, char** argv);

// Runs the master loop until SIGTERM, SIGINT or SIGQUIT; returns the exit code. Never logs
// between fork and exec (docs/design.md#fork-and-exec).
int run_supervisor(const SupervisorOptions& opt);

// The worker number from "--worker <n>" in argv, or -1 in the master.
int worker_number(int argc, char** argv);

// True when argv holds `flag` (e.g. "--check", "--stats").
bool has_flag(int argc, char** argv, const char* flag);
// The word after `flag` in argv ("" when it is last), nullopt without the flag.
std::optional<std::string> flag_value(int argc, char** argv, const char* flag);

// The binary a reload checks and re-executes: `argv0` when it is an absolute path, kept as it is
// (through a link such as /opt/restpie/current/build/server, so a reload after `current` moved runs
// the new release), else /proc/self/exe resolved (the running file; a rebuild in its place is what
// a reload runs).
std::string self_path(const char* argv0 = nullptr);

}  // namespace prefork
