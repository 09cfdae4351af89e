// supervisor.h: the prefork master shared by server and (later) spooler: forks and execs N
// workers, respawns the dead with a brake on crash loops, stops them gracefully.
#pragma once
#include <string>
#include <vector>

namespace core {

struct SupervisorOptions {
    std::string name = "server";         // for the log
    int workers = 4;
    std::string program;                 // the binary to exec for a worker (resolved at start)
    std::vector<std::string> args;       // its arguments; "--worker <n>" is appended
    int listen_fd = -1;                  // handed to each worker as fd 0; -1: none
    int stop_grace_seconds = 30;         // after SIGTERM to the workers, then SIGKILL
};

// Runs the master loop until SIGTERM, SIGINT or SIGQUIT; returns the exit code.
// Never logs between fork and exec (LIBRARIES.md 8).
int run_supervisor(const SupervisorOptions& opt);

// The worker number from "--worker <n>" in argv, or -1 in the master.
int worker_number(int argc, char** argv);

// Absolute path of the running binary, so a rebuilt binary on disk is what workers exec.
std::string self_path();

}  // namespace core
