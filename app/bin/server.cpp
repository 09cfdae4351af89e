// server.cpp: the FastCGI app server. Without --worker it is the master (owns the socket, forks and
// execs the workers); with --worker N it is worker N serving requests one at a time.
#include <signal.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <string>

#include <log4cplus/initializer.h>

#include "app/api/routes.h"
#include "app/api/session.h"
#include "app/core/config.h"
#include "app/core/dispatcher.h"
#include "app/core/errors.h"
#include "app/core/fcgi.h"
#include "app/core/listen.h"
#include "app/core/log.h"
#include "app/core/supervisor.h"
#include "app/model/db_errors.h"

namespace {

int run_worker(int n)
{
    core::init_logging(core::config(), "w" + std::to_string(n));
    core::Router router;
    api::add_all_routes(router);
    core::Dispatcher dispatcher(router);
    dispatcher.add_error_translator(model::translate_db_error);
    dispatcher.set_session_loader(api::load_session);
    return core::serve_fcgi(dispatcher, static_cast<std::size_t>(core::config().integer("max_body_bytes")));
}

int run_master(int argc, char** argv)
{
    const auto& c = core::config();
    core::init_logging(c, "master");
    core::SupervisorOptions opt;
    opt.workers = static_cast<int>(c.integer("workers"));
    opt.stop_grace_seconds = static_cast<int>(c.integer("stop_grace_seconds"));
    opt.program = core::self_path();
    opt.args.assign(argv + 1, argv + argc);
    // spawn-fcgi hands the socket over on fd 0; started by hand, we bind the configured address.
    if (core::is_listening_socket(0))
        opt.listen_fd = 0;
    else if (!c.str("listen").empty())
        opt.listen_fd = core::listen_on(c.str("listen"));
    else
        throw core::ConfigError("no listening socket on fd 0 (spawn-fcgi) and no 'listen' in the config");
    setenv("SERVER_STARTED", std::to_string(std::time(nullptr)).c_str(), 0);
    return core::run_supervisor(opt);
}

}  // namespace

int main(int argc, char** argv)
{
    log4cplus::Initializer log_init;
    signal(SIGPIPE, SIG_IGN);  // a dead peer is an error return, never a killed process
    try {
        core::set_config(core::Config::load(core::Config::path_from(argc, argv)));
        const int worker = core::worker_number(argc, argv);
        return worker > 0 ? run_worker(worker) : run_master(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "server: " << e.what() << std::endl;
        return 1;
    }
}
