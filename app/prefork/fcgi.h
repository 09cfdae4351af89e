// fcgi.h: a worker's FastCGI loop: connections accepted on fd 0, kept open for nginx
// (FCGI_KEEP_CONN) and shared with the other workers (conn_table.h), one request at a time,
// dispatch, reply.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "app/core/dispatcher.h"

namespace prefork {

struct WorkerHooks {
    // Called once a request is accepted, with its method and path (the scoreboard).
    std::function<void(const std::string& method, const std::string& path)> before_request;
    // Called after each request; returning false makes the worker leave after that request
    // (max requests, memory limit: the master replaces it); its kept connections stay open in
    // the other workers.
    std::function<bool()> after_request;
};

// Installs the worker's signal handlers (SIGTERM/SIGUSR1/SIGQUIT: finish the request in hand,
// then leave; the kept connections stay open in the other workers and the master), then serves
// until told to stop (or the master is gone). Returns the process exit code. The stop signals
// are blocked except while the worker waits for a request, so a stop or reload never cuts
// a request short (libfcgi would drop a request whose read() a signal interrupts). On a TCP
// socket, a connection from a peer not in web_servers (canonical addresses; empty: any) is closed
// at once with a warning.
int serve_fcgi(const core::Dispatcher& dispatcher, std::size_t max_body_bytes,
               const WorkerHooks& hooks = {}, const std::vector<std::string>& web_servers = {});

// True once a stop signal arrived, even while it is held back during a request (long handlers
// may check it).
bool stop_requested();

}  // namespace prefork
