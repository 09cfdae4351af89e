// server.cpp: the FastCGI app server. Without --worker it is the master (owns the socket, forks and
// execs the workers); with --worker N it is worker N serving requests one at a time. --check loads
// the config and routes and exits (a reload runs it first); --stats prints the master's stats;
// --reload PID reloads the master PID and waits for the result (systemd's ExecReload).
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <string>

#include "app/api/routes.h"
#include "app/api/settings_schema.h"
#include "app/api/session.h"
#include "app/core/config.h"
#include "app/core/dispatcher.h"
#include "app/prefork/fcgi.h"
#include "app/prefork/listen.h"
#include "app/prefork/reload.h"
#include "app/core/log.h"
#include "app/prefork/metrics.h"
#include "app/prefork/process.h"
#include "app/core/program.h"
#include "app/prefork/server_settings.h"
#include "app/prefork/stats.h"
#include "app/prefork/supervisor.h"
#include "app/prefork/worker_life.h"
#include "app/model/db.h"
#include "app/model/db_errors.h"
#include "app/tasks/spool.h"
#include "app/tasks/spool_stats.h"

namespace {

int run_worker(int n)
{
    const auto server = core::settings<core::ServerSettings>();
    core::init_logging(core::config(), "w" + std::to_string(n));
    if (core::crash_at_start(server.test_crash_file))
        return 3;
    if (server.batch_scheduling && !core::use_batch_scheduling())
        LOG4CPLUS_WARN(core::logger("server"),
                       "SCHED_BATCH refused (" << std::strerror(errno) << "): normal scheduling");
    core::Router router;
    api::add_all_routes(router);
    core::Dispatcher dispatcher(router);
    dispatcher.set_read_retry(model::retry_read_after_db_error);
    dispatcher.set_session_loader(api::load_session);
    core::MetricsWriter metrics(router);  // counts into the master's table, when metrics are on
    dispatcher.set_observer(
        [&](const core::Route* r, int status, double s) { metrics.record(r, status, s); });
    core::WorkerLife life(n, core::settings<core::RecycleLimits>());
    core::WorkerHooks hooks{[&](const std::string& method, const std::string& path) {
                                model::drop_if_closed();  // a database restart costs no write
                                life.begin(method, path);
                            },
                            [&] { return life.end(); }};
    return core::serve_fcgi(dispatcher, server.max_body_bytes, hooks, server.web_servers);
}

int run_master(int argc, char** argv)
{
    const auto server = core::settings<core::ServerSettings>();
    core::init_logging(core::config(), "master");
    core::log_to_journal_too();
    auto opt = core::supervisor_options(argc, argv);
    opt.metrics_listen = server.metrics_listen;  // the server's alone: the spooler has none
    core::Router router;
    api::add_all_routes(router);
    opt.metric_routes = core::route_labels(router);
    opt.extra_metrics = [spool_dir = core::settings<tasks::SpoolSettings>().dir] {
        return tasks::spool_metrics(spool_dir);
    };
    opt.listen_fd = core::server_socket(server.listen);  // a reload's, spawn-fcgi's fd 0, or bound
    opt.connection_slots = 4096;  // kept connections shared by the workers (nginx/http.conf.in)
    setenv("SERVER_STARTED", std::to_string(std::time(nullptr)).c_str(), 0);
    return core::run_supervisor(opt);
}

// A reload runs the new binary with --check first: it must load its config (run_main checked it
// against every module's keys and built every module's settings) and routes.
int check()
{
    core::Router router;
    api::add_all_routes(router);
    std::cout << "server: ok, " << router.routes().size() << " routes" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return core::run_main(argc, argv, "server", api::settings_schema(), [&] {
        if (core::has_flag(argc, argv, "--check"))
            return check();
        const auto& stats_listen = core::settings<core::SupervisorOptions>().stats_listen;
        if (core::has_flag(argc, argv, "--stats"))
            return core::print_stats(stats_listen);
        if (const auto pid = core::flag_value(argc, argv, "--reload"))
            return core::reload_and_wait("server", stats_listen, *pid);
        const int worker = core::worker_number(argc, argv);
        return worker > 0 ? run_worker(worker) : run_master(argc, argv);
    });
}
