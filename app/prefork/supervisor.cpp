// supervisor.cpp: the master loop. Signals arrive through a signalfd, so the loop is one poll()
// over it and the stats socket, with a one-second tick for the checks (master_watch.cpp).
#include "app/prefork/supervisor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "app/core/config.h"
#include "app/prefork/listen.h"
#include "app/core/log.h"
#include "app/prefork/master.h"
#include "app/prefork/notify.h"
#include "app/prefork/process.h"

namespace core {
namespace {

const auto lg = logger("master");
const int kMasterSignals[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP};

// "/run/restpie" of "/run/restpie/stats.sock"; "" for "" or a name without a directory.
std::string dir_of(const std::string& path)
{
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "" : path.substr(0, std::max<std::size_t>(slash, 1));
}

int ms_until(Clock::time_point now, Clock::time_point t)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, 1000));
}

}  // namespace

bool Generation::alive() const
{
    return std::any_of(workers.begin(), workers.end(), [](const Worker& w) { return w.pid > 0; });
}

bool Generation::ready() const
{
    return std::all_of(workers.begin(), workers.end(), [this](const Worker& w) {
        return w.pid > 0 && board.read(w.id - 1).state != WorkerState::starting;
    });
}

Master::Master(const SupervisorOptions& opt) : opt_(opt)
{
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : kMasterSignals)
        sigaddset(&mask, s);
    sigprocmask(SIG_BLOCK, &mask, &child_mask_);
    // After a reload this image starts with them blocked already; the workers must not.
    for (int s : kMasterSignals)
        sigdelset(&child_mask_, s);
    sfd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd_ < 0)
        throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
    build_id_ = file_hash("/proc/self/exe");
    counters_.started = std::time(nullptr);
    current_.board = Scoreboard::create(opt_.workers);
    setenv(kScoreboardEnv, std::to_string(opt_.workers).c_str(), 1);
    for (int i = 1; i <= opt_.workers; ++i)
        current_.workers.push_back(Worker{i});
    std::string program_stamp = file_stamp(opt_.program),
                reload_stamp = file_stamp(opt_.reload_file);
    int metrics_fd = -1;
    auto handover = take_handover();
    if (opt_.listen_fd >= 0 && opt_.connection_slots > 0) {
        // Slot k's connection is fd kConnFdBase + k in every process: the open-files limit bounds
        // the slots.
        const int slots = slots_within_fd_limit(opt_.connection_slots);
        if (handover && handover->conn_table_fd >= 0) {
            hub_.emplace(ConnTable(handover->conn_table_fd, true), handover->conn_poll_fd,
                         handover->channels);
        } else if (slots >= 16) {
            hub_.emplace(ConnTable::create(slots, kConnFdBase), opt_.listen_fd);
        } else {
            LOG4CPLUS_WARN(lg, "kept connections are not shared: the open-files limit is under "
                                   << kConnFdBase + 64 + 16 << " (raise LimitNOFILE)");
        }
        if (hub_)
            setenv(kConnTableEnv, "1", 1);
    }
    if (handover) {
        program_stamp = handover->program_stamp;
        reload_stamp = handover->reload_stamp;
        metrics_fd = handover->metrics_fd;
        adopt(std::move(*handover));
    }
    start_metrics(metrics_fd);
    binary_ = FileWatch(opt_.reload_on_rebuild ? opt_.program : "", true, program_stamp);
    reload_file_ = FileWatch(opt_.reload_file, false, reload_stamp);
    const std::string stats_dir = dir_of(unix_socket_path(opt_.stats_listen));
    struct stat st {};
    if (!stats_dir.empty() && stat(stats_dir.c_str(), &st) != 0) {
        // /run/restpie is made by systemd (RuntimeDirectory=): without it, serve without stats.
        LOG4CPLUS_WARN(lg, "no stats view: the directory of stats_listen " << opt_.stats_listen
                                                                           << " does not exist");
    } else {
        try {
            stats_.emplace(opt_.stats_listen);
        } catch (const std::exception& e) {
            if (!old_)
                throw;
            LOG4CPLUS_ERROR(lg, "no stats view after the reload: " << e.what());  // keep serving
        }
    }
}

Master::~Master()
{
    close(sfd_);
}

int Master::run()
{
    LOG4CPLUS_INFO(lg, opt_.name << " master pid " << getpid() << " (build " << build_id_
                                 << ") starting " << opt_.workers << " workers");
    while (true) {
        auto now = Clock::now();
        if (!stopping_)
            spawn_due(now);
        if (stopping_ && !current_.alive() && !(old_ && old_->alive()) && !check_.running())
            break;
        if (now >= next_tick_) {
            tick(now);
            next_tick_ = now + std::chrono::seconds(1);
        }
        retire_old_when_new_ready(now);
        tell_ready_once_serving();

        int timeout = ms_until(now, next_tick_);
        if (old_ && !old_told_)
            timeout = std::min(timeout, 20);  // hand over as soon as the new workers are up
        for (const auto& w : current_.workers)
            if (w.pid == 0 && !stopping_)
                timeout = std::min(timeout, ms_until(now, w.respawn_at));
        std::vector<pollfd> fds{{sfd_, POLLIN, 0},
                                {stats_ ? stats_->fd() : -1, POLLIN, 0},
                                {hub_ ? hub_->poll_fd() : -1, POLLIN, 0}};
        if (metrics_server_)
            metrics_server_->add_poll_fds(fds);
        poll(fds.data(), fds.size(), timeout);
        signalfd_siginfo si;
        while (read(sfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
            on_signal(static_cast<int>(si.ssi_signo));
        if (fds[1].revents & POLLIN)
            stats_->serve([this] { return snapshot(); });
        if (hub_)
            hub_->serve();
        if (metrics_server_)
            metrics_server_->serve([this] { return metrics_text(); });
        reap();
    }
    LOG4CPLUS_INFO(lg, opt_.name << " master stopped");
    return 0;
}

void Master::spawn_due(Clock::time_point now)
{
    for (auto& w : current_.workers) {
        if (w.pid != 0 || now < w.respawn_at)
            continue;
        current_.board.reset(w.id - 1);
        std::vector<FdMove> fds;
        if (opt_.listen_fd >= 0)
            fds.push_back({opt_.listen_fd, 0});
        fds.push_back({current_.board.fd(), kScoreboardFd});
        if (metrics_)
            fds.push_back({metrics_.fd(), kMetricsFd});
        if (hub_) {
            fds.push_back({hub_->open_channel(), kConnChannelFd});
            fds.push_back({hub_->table_fd(), kConnTableFd});
            fds.push_back({hub_->work_poll_fd(), kConnPollFd});
        }
        std::vector<std::string> argv{opt_.program};
        argv.insert(argv.end(), opt_.args.begin(), opt_.args.end());
        argv.push_back("--worker");
        argv.push_back(std::to_string(w.id));
        // The master's own image, even once the file on disk is replaced: new code only comes
        // with a checked reload, never with a respawn in the middle of a rebuild.
        w.pid = spawn_process("/proc/self/exe", argv, fds, child_mask_);
        if (hub_ && w.pid > 0)
            hub_->attach(w.pid);
        else if (hub_)
            hub_->abort_open();
        if (w.pid < 0) {
            LOG4CPLUS_ERROR(lg, "fork failed: " << std::strerror(errno));
            w.pid = 0;
            w.respawn_at = now + std::chrono::seconds(1);
            continue;
        }
        w.started = now;
        counters_.respawns += w.ran_before;
        w.ran_before = true;
    }
}

void Master::on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
        stop(strsignal(sig));
    else if (sig == SIGHUP)
        request_reload("SIGHUP");
}

void Master::stop(const char* why)
{
    if (stopping_)
        return;
    LOG4CPLUS_INFO(lg, "got " << why << ": stopping workers gracefully (grace "
                              << opt_.stop_grace_seconds << " s)");
    stopping_ = true;
    reload_pending_ = false;
    notify_stopping(std::string("stopping: ") + why);
    stop_deadline_ = Clock::now() + std::chrono::seconds(opt_.stop_grace_seconds);
    for (auto* g : {&current_, old_ ? &*old_ : nullptr})
        if (g)
            for (auto& w : g->workers)
                tell_to_leave(w, "stop");
    check_.cancel();
}

void Master::tell_to_leave(Worker& w, const char* why)
{
    if (w.pid <= 0 || w.told_to_leave)
        return;
    kill(w.pid, SIGTERM);  // the worker finishes the request in hand, then leaves
    w.told_to_leave = why;
    if (hub_)
        hub_->leaving(w.pid);
}

void Master::reap()
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (check_.owns(pid)) {
            check_.finish(status, stopping_);
            continue;
        }
        for (auto* g : {&current_, old_ ? &*old_ : nullptr}) {
            if (!g)
                continue;
            auto it = std::find_if(g->workers.begin(), g->workers.end(),
                                   [pid](const Worker& w) { return w.pid == pid; });
            if (it == g->workers.end())
                continue;
            if (hub_)
                hub_->worker_gone(pid);
            on_exit(*g, *it, status);
        }
    }
    // Only once told: old workers that all retired on their own before the new ones were up
    // still leave the reload to be counted done when they are.
    if (old_ && old_told_ && !old_->alive()) {
        LOG4CPLUS_INFO(lg, "reload done: the old workers have all left");
        old_.reset();
        if (reload_pending_)
            request_reload("one that waited");
    }
}

void Master::tell_ready_once_serving()
{
    if (ready_told_ || stopping_ || !current_.ready())
        return;
    ready_told_ = true;
    notify_ready(opt_.name + ": " + std::to_string(opt_.workers) + " workers up");
    LOG4CPLUS_INFO(lg, opt_.name << " ready: " << opt_.workers << " workers up");
}

void Master::on_exit(Generation& g, Worker& w, int status)
{
    const SlotView slot = g.board.read(w.id - 1);
    counters_.requests_done += static_cast<std::int64_t>(slot.requests);
    const auto now = Clock::now();
    const auto lived_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - w.started).count();
    const std::string who = std::string(g.retiring ? "old worker " : "worker ") +
                            std::to_string(w.id) + " (pid " + std::to_string(w.pid) + ")";
    const char* told = w.told_to_leave;
    const bool harakiri = w.harakiri_tries > 0;
    w.pid = 0;
    w.told_to_leave = nullptr;
    w.harakiri_tries = 0;
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (stopping_ || g.retiring) {
        LOG4CPLUS_INFO(lg, who << " left: " << describe_status(status));
        return;
    }
    if (clean) {
        ++counters_.retired;
        w.fast_deaths = 0;
        const std::string why = told ? told : leave_reason_text(slot.leave_reason);
        LOG4CPLUS_INFO(lg, who << " retired (" << (why.empty() ? "left on its own" : why)
                               << ") after " << slot.requests << " requests: respawning");
        return;
    }
    ++counters_.deaths;
    w.fast_deaths = lived_ms < 1000 && !harakiri ? w.fast_deaths + 1 : 0;
    if (w.fast_deaths >= 2) {
        const int delay = std::min(1 << std::min(w.fast_deaths - 1, 5), 30);
        w.respawn_at = now + std::chrono::seconds(delay);
        LOG4CPLUS_ERROR(lg, who << " died " << lived_ms << " ms after start ("
                                << describe_status(status) << "), " << w.fast_deaths
                                << " times in a row: crash loop, respawn in " << delay << " s");
    } else {
        LOG4CPLUS_ERROR(lg, who << " died (" << describe_status(status) << ")"
                                << (harakiri ? " after harakiri" : "") << ": respawning");
    }
}

std::vector<Key> SupervisorOptions::keys()
{
    constexpr std::int64_t kDay = 86400;
    return {Key::integer("workers", 4, 1, 1024),
            Key::integer("stop_grace_seconds", 30, 0, kDay),
            Key::integer("harakiri_seconds", 20, 0, kDay),
            Key::integer("max_worker_lifetime_seconds", 36000, 0, 365 * kDay),
            Key::integer("reload_mercy_seconds", 60, 0, kDay),
            Key::text("reload_file", "RESTART"),
            Key::flag("reload_on_rebuild", true),
            Key::text("stats_listen", "")};
}

SupervisorOptions SupervisorOptions::from(const Config& c)
{
    SupervisorOptions o;
    o.workers = static_cast<int>(c.integer("workers"));
    o.stop_grace_seconds = static_cast<int>(c.integer("stop_grace_seconds"));
    o.harakiri_seconds = static_cast<int>(c.integer("harakiri_seconds"));
    o.max_lifetime_seconds = static_cast<int>(c.integer("max_worker_lifetime_seconds"));
    o.reload_mercy_seconds = static_cast<int>(c.integer("reload_mercy_seconds"));
    o.reload_file = c.str("reload_file");
    o.reload_on_rebuild = c.flag("local_dev") && c.flag("reload_on_rebuild");
    o.stats_listen = c.str("stats_listen");
    return o;
}

SupervisorOptions supervisor_options(int argc, char** argv)
{
    SupervisorOptions o = settings<SupervisorOptions>();
    o.program = self_path(argv[0]);
    o.args.assign(argv + 1, argv + argc);
    return o;
}

int run_supervisor(const SupervisorOptions& opt)
{
    Master m(opt);
    return m.run();
}

int worker_number(int argc, char** argv)
{
    const auto n = flag_value(argc, argv, "--worker");
    return n && !n->empty() ? std::atoi(n->c_str()) : -1;
}

std::optional<std::string> flag_value(int argc, char** argv, const char* flag)
{
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], flag) == 0)
            return std::string(i + 1 < argc ? argv[i + 1] : "");
    return std::nullopt;
}

bool has_flag(int argc, char** argv, const char* flag)
{
    return std::any_of(argv + 1, argv + argc,
                       [flag](const char* a) { return std::strcmp(a, flag) == 0; });
}

std::string self_path(const char* argv0)
{
    if (argv0 && argv0[0] == '/')
        return argv0;
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        throw std::runtime_error("cannot resolve /proc/self/exe");
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace core
