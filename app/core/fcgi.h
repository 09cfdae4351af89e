// fcgi.h: a worker's FastCGI loop: accept one request at a time on fd 0, dispatch, reply.
#pragma once
#include <cstddef>
#include <functional>

#include "app/core/dispatcher.h"

namespace core {

struct WorkerHooks {
    // Called after each request; returning false makes the worker leave after that request
    // (max requests, memory limit: the master replaces it).
    std::function<bool()> after_request;
};

// Installs the worker's signal handlers (SIGTERM/SIGUSR1: finish the request in hand, then
// leave), then serves until told to stop. Returns the process exit code.
int serve_fcgi(const Dispatcher& dispatcher, std::size_t max_body_bytes, const WorkerHooks& hooks = {});

// True once a stop signal arrived (long handlers may check it).
bool stop_requested();

}  // namespace core
