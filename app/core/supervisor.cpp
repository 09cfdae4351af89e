// supervisor.cpp: the master loop. Signals arrive through a signalfd, so the loop is one poll()
// with a one-second tick: the place where harakiri and recycling checks will go.
#include "app/core/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "app/core/log.h"

namespace core {
namespace {

const auto lg = logger("master");
using Clock = std::chrono::steady_clock;

struct Slot {
    pid_t pid = 0;
    Clock::time_point started{};
    Clock::time_point respawn_at{};
    int fast_deaths = 0;  // deaths within a second of starting, in a row
};

// fork + exec; the child only rearranges fds and execs (no logging, no allocation after fork).
pid_t spawn(const SupervisorOptions& opt, int n, const sigset_t& old_mask)
{
    std::vector<std::string> args{opt.program};
    args.insert(args.end(), opt.args.begin(), opt.args.end());
    args.push_back("--worker");
    args.push_back(std::to_string(n));
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    if (opt.listen_fd >= 0 && opt.listen_fd != 0)
        dup2(opt.listen_fd, 0);
    execv(argv[0], argv.data());
    _exit(127);
}

std::string describe(int status)
{
    if (WIFEXITED(status))
        return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("signal ") + strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
}

}  // namespace

int worker_number(int argc, char** argv)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--worker") == 0)
            return std::atoi(argv[i + 1]);
    return -1;
}

std::string self_path()
{
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        throw std::runtime_error("cannot resolve /proc/self/exe");
    return std::string(buf, static_cast<std::size_t>(n));
}

int run_supervisor(const SupervisorOptions& opt)
{
    sigset_t mask, old_mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP})
        sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, &old_mask);
    const int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        LOG4CPLUS_FATAL(lg, "signalfd: " << std::strerror(errno));
        return 1;
    }

    std::vector<Slot> slots(static_cast<std::size_t>(opt.workers));
    bool stopping = false;
    Clock::time_point stop_deadline{};
    LOG4CPLUS_INFO(lg, opt.name << " master pid " << getpid() << " starting " << opt.workers
                                << " workers");

    while (true) {
        const auto now = Clock::now();
        if (!stopping) {
            for (std::size_t i = 0; i < slots.size(); ++i) {
                auto& s = slots[i];
                if (s.pid == 0 && now >= s.respawn_at) {
                    s.pid = spawn(opt, static_cast<int>(i) + 1, old_mask);
                    s.started = now;
                    if (s.pid < 0) {
                        LOG4CPLUS_ERROR(lg, "fork failed: " << std::strerror(errno));
                        s.pid = 0;
                        s.respawn_at = now + std::chrono::seconds(1);
                    }
                }
            }
        }
        const bool any_alive = std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return s.pid > 0; });
        if (stopping && !any_alive)
            break;
        if (stopping && now >= stop_deadline) {
            for (auto& s : slots)
                if (s.pid > 0) {
                    LOG4CPLUS_WARN(lg, "worker pid " << s.pid << " still busy after the grace period: SIGKILL");
                    kill(s.pid, SIGKILL);
                }
            stop_deadline = now + std::chrono::hours(1);
        }

        pollfd pfd{sfd, POLLIN, 0};
        poll(&pfd, 1, 1000);
        signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            const int sig = static_cast<int>(si.ssi_signo);
            if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
                if (!stopping) {
                    LOG4CPLUS_INFO(lg, "got " << strsignal(sig) << ": stopping workers gracefully");
                    stopping = true;
                    stop_deadline = Clock::now() + std::chrono::seconds(opt.stop_grace_seconds);
                    for (auto& s : slots)
                        if (s.pid > 0)
                            kill(s.pid, SIGTERM);
                }
            } else if (sig == SIGHUP && !stopping) {
                // Each worker finishes its request and is replaced by a fresh exec of the binary on
                // disk, so rebuilt code serves; the socket stays open, requests wait in its backlog.
                LOG4CPLUS_INFO(lg, "got SIGHUP: replacing workers one request at a time");
                for (auto& s : slots)
                    if (s.pid > 0)
                        kill(s.pid, SIGTERM);
            }
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = std::find_if(slots.begin(), slots.end(), [pid](const Slot& s) { return s.pid == pid; });
            if (it == slots.end())
                continue;
            const auto n = it - slots.begin() + 1;
            const auto lived = Clock::now() - it->started;
            it->pid = 0;
            if (stopping) {
                LOG4CPLUS_INFO(lg, "worker " << n << " (pid " << pid << ") stopped: " << describe(status));
                continue;
            }
            it->fast_deaths = lived < std::chrono::seconds(1) ? it->fast_deaths + 1 : 0;
            if (it->fast_deaths >= 2) {
                const int delay = std::min(1 << std::min(it->fast_deaths - 1, 5), 30);
                it->respawn_at = Clock::now() + std::chrono::seconds(delay);
                LOG4CPLUS_ERROR(lg, "worker " << n << " (pid " << pid << ") died at start "
                                              << it->fast_deaths << " times in a row ("
                                              << describe(status) << "): respawn in " << delay << " s");
            } else {
                const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (clean)
                    LOG4CPLUS_INFO(lg, "worker " << n << " (pid " << pid << ") retired: respawning");
                else
                    LOG4CPLUS_ERROR(lg, "worker " << n << " (pid " << pid << ") died (" << describe(status)
                                                  << "): respawning");
            }
        }
    }
    LOG4CPLUS_INFO(lg, opt.name << " master stopped");
    close(sfd);
    return 0;
}

}  // namespace core
