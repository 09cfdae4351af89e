// spooler_process.cpp: a spooler process. A task runs inside it, so it keeps the process's database
// and Redis connections; its time cap is an alarm(2) whose signal kills the process, after
// marking the task, and the supervisor starts a fresh one.
#include "app/tasks/spooler_process.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "app/core/config.h"
#include "app/core/dispatcher.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/program.h"
#include "app/prefork/scoreboard.h"
#include "app/prefork/supervisor.h"
#include "app/tasks/run_log.h"
#include "app/tasks/spool.h"
#include "app/tasks/spool_stats.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.spooler");
using Steady = std::chrono::steady_clock;
// A process retires after max tasks only once it has lived this long: quicker exits look like a
// crash loop to the supervisor, which then slows down the respawns.
constexpr auto kMinLifetime = std::chrono::seconds(2);

volatile sig_atomic_t g_stop = 0;
char g_cap_marker[PATH_MAX];  // created by the SIGALRM handler: "this task hit the time cap"

void on_stop(int)
{
    g_stop = 1;
}

void on_time_cap(int)
{
    // Async-signal-safe calls only: leave the mark for whoever takes the task up, then die of it.
    const int fd = open(g_cap_marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0)
        close(fd);
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
}

void install_handlers()
{
    struct sigaction sa {};
    sa.sa_handler = on_stop;  // no SA_RESTART: a stop signal breaks the wait in poll()
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP})
        sigaction(s, &sa, nullptr);
    sa.sa_handler = on_time_cap;
    sigaction(SIGALRM, &sa, nullptr);
}

// New task files arrive by rename into the folder: IN_MOVED_TO wakes the process at once.
class Watch {
public:
    explicit Watch(const std::string& dir) : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
    {
        if (fd_ < 0 || inotify_add_watch(fd_, dir.c_str(), IN_MOVED_TO) < 0)
            LOG4CPLUS_WARN(lg, "inotify on " << dir << ": " << std::strerror(errno)
                                             << "; new tasks wait for the periodic scan");
    }
    ~Watch()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    // True when something arrived since the last call.
    bool drain()
    {
        alignas(inotify_event) char buf[4096];
        bool any = false;
        while (fd_ >= 0 && read(fd_, buf, sizeof buf) > 0)
            any = true;
        return any;
    }
    void wait(int ms)
    {
        pollfd p{fd_, POLLIN, 0};
        poll(&p, fd_ >= 0 ? 1 : 0, std::max(ms, 0));
    }

private:
    int fd_;
};

const char* outcome(TaskResult r)
{
    return r == TaskResult::ok ? "ok" : r == TaskResult::ignore ? "ignore" : "retry";
}

class Worker {
public:
    Worker(const Registry& r, const SpoolerSettings& s, int n)
        : registry_(r), s_(s), spool_(s.dir), stats_(s.dir, n), watch_(s.dir),
          secret_keys_(core::settings<core::LogSettings>().secret_keys)
    {
    }

    void loop()
    {
        const auto born = Steady::now();
        auto next_scan = born;
        int tasks = 0;
        while (!g_stop) {
            if (tasks >= s_.max_tasks && Steady::now() - born >= kMinLifetime) {
                LOG4CPLUS_INFO(lg, "retiring after " << tasks << " tasks");
                return;
            }
            if (Steady::now() >= next_scan) {
                recover();
                rescan_ = true;
                next_scan = Steady::now() + std::chrono::seconds(s_.scan_seconds);
            }
            if (watch_.drain() || rescan_)
                queue_ = spool_.list(spool_.dir());
            rescan_ = false;
            if (run_next()) {
                ++tasks;
                continue;
            }
            // Nothing ready: sleep until a task arrives, the next one falls due or the next scan.
            using std::chrono::milliseconds;
            auto wake_ms =
                std::chrono::duration_cast<milliseconds>(next_scan - Steady::now()).count();
            const auto now_ms = to_ms(Clock::now());
            for (const auto& t : queue_)
                wake_ms = std::min(wake_ms, t.not_before_ms - now_ms);
            watch_.wait(static_cast<int>(wake_ms) + 1);
        }
    }

private:
    const std::string& source(const std::string& task) const
    {
        static const std::string none = "-";
        const auto* def = registry_.find(task);
        return def ? def->source : none;
    }

    // The request log's shape: "<file> TASK <name>:<id> <args> -> <outcome>".
    std::string line(const Claim& c, const std::string& what) const
    {
        return source(c.task()) + " TASK " + c.task() + ":" + c.name().id + " " +
               core::loggable_json(c.args_json(), secret_keys_) + " -> " + what;
    }

    bool run_next()
    {
        const auto now = to_ms(Clock::now());
        for (auto it = queue_.begin(); it != queue_.end();) {
            if (it->not_before_ms > now) {
                ++it;
                continue;
            }
            auto claim = spool_.claim(*it);
            it = queue_.erase(it);
            if (claim) {
                settle_run(*claim);
                return true;
            }
        }
        return false;
    }

    void settle_run(Claim& c)
    {
        try {
            if (c.task().empty()) {
                c.fail("unreadable task file");
                stats_.add(Counter::failed);
                LOG4CPLUS_ERROR(lg, "unreadable task file " << c.path() << ": moved to failed/");
                return;
            }
            std::string error;
            const auto start = Steady::now();
            const auto result = run(c, error);
            const auto head = line(c, std::string(outcome(result)) + " " + took(start));
            if (result == TaskResult::retry)
                return settle_failure(c, head + " (" + error + ")", error);
            c.done();
            stats_.add(result == TaskResult::ok ? Counter::done : Counter::ignored);
            LOG4CPLUS_INFO(lg, head);
        } catch (const std::exception& e) {
            // The claim is dropped unsettled: the task stays in running/ and the next scan retries.
            LOG4CPLUS_ERROR(lg, "task " << c.path() << ": " << e.what());
        }
    }

    TaskResult run(const Claim& c, std::string& error)
    {
        const auto* def = registry_.find(c.task());
        if (!def) {
            error = "unknown task " + c.task() + " (not registered in this spooler)";
            return TaskResult::retry;
        }
        std::snprintf(g_cap_marker, sizeof g_cap_marker, "%s/%s.timeout",
                      spool_.running_dir().c_str(), c.name().stem().c_str());
        stats_.task_started(c.task());
        alarm(static_cast<unsigned>(s_.time_cap));
        auto result = TaskResult::retry;
        try {
            const core::LogSource in_task(def->source);  // the task's own lines name its file
            result = def->fn(Task{c.name().id, c.task(), core::JsonObject::parse(c.args_json()),
                                  c.name().failures});
            if (result == TaskResult::retry)
                error = "the task asked for a retry";
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "unknown exception";
        }
        alarm(0);
        stats_.task_finished();
        return result;
    }

    // After a failed run: back into the queue after a growing delay, or into failed/ once the
    // retries are spent.
    void settle_failure(Claim& c, const std::string& head, const std::string& error)
    {
        const int failures = c.name().failures + 1;
        if (failures > s_.max_retries) {
            c.fail(error);
            stats_.add(Counter::failed);
            LOG4CPLUS_ERROR(
                lg, head << ": run " << failures << " failed, no retries left: moved to failed/");
            return;
        }
        const auto delay = retry_delay_seconds(failures, s_.retry_seconds);
        c.retry(Clock::now() + std::chrono::seconds(delay));
        stats_.add(Counter::retried);
        LOG4CPLUS_WARN(lg,
                       head << ": run " << failures << " failed, next run in " << delay << " s");
    }

    // Tasks whose spooler process died mid-run count as failed runs: killed at the time cap (the
    // SIGALRM handler left a .timeout mark), or killed or crashed otherwise.
    void recover()
    {
        namespace fs = std::filesystem;
        for (auto& c : spool_.orphans()) {
            const auto mark = spool_.running_dir() + "/" + c.name().stem() + ".timeout";
            std::error_code ec;
            char why[160];
            if (fs::exists(mark, ec))
                std::snprintf(why, sizeof why, "killed: ran past the time cap of %d s",
                              s_.time_cap);
            else
                std::snprintf(why, sizeof why,
                              "interrupted: its spooler process died (claimed %.1f s ago)",
                              c.age_seconds());
            try {
                settle_failure(c, line(c, why), why);
            } catch (const std::exception& e) {
                LOG4CPLUS_ERROR(lg, "task " << c.path() << ": " << e.what());
            }
            fs::remove(mark, ec);
        }
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(spool_.running_dir(), ec))
            if (e.path().extension() == ".timeout" &&
                !fs::exists(fs::path(e.path()).replace_extension(".task"), ec))
                fs::remove(e.path(), ec);  // its task was settled by a process that died then
    }

    const Registry& registry_;
    const SpoolerSettings& s_;
    SpoolDir spool_;
    SpoolStats stats_;
    Watch watch_;
    std::vector<std::string> secret_keys_;
    std::vector<TaskName> queue_;  // from the last scan, in running order
    bool rescan_ = true;
};

}  // namespace

std::vector<core::Key> SpoolerSettings::keys()
{
    using core::Key;
    // spooler_stats_listen is off when absent, as before the key existed. spool_dir is
    // SpoolSettings' key.
    return {Key::integer("spooler_processes", 2, 1, SpoolStats::kSlots - 1),
            Key::integer("spooler_time_cap_seconds", 600, 1, 86400 * 7),
            Key::integer("spooler_max_tasks", 100, 1, INT_MAX),
            Key::integer("spooler_max_retries", 5, 0, 1000),
            Key::integer("spooler_retry_seconds", 60, 1, 86400),
            Key::integer("spooler_scan_seconds", 5, 1, 3600),
            Key::text("spooler_stats_listen", "")};
}

SpoolerSettings SpoolerSettings::from(const core::Config& c)
{
    const auto n = [&](const char* key) { return static_cast<int>(c.integer(key)); };
    return SpoolerSettings{
        c.str("spool_dir"),        n("spooler_processes"),       n("spooler_time_cap_seconds"),
        n("spooler_max_tasks"),    n("spooler_max_retries"),     n("spooler_retry_seconds"),
        n("spooler_scan_seconds"), c.str("spooler_stats_listen")};
}

int run_spooler_process(const Registry& registry, const SpoolerSettings& s, int n)
{
    init_task_logging("spool" + std::to_string(n));
    install_handlers();
    // Marks this process up in the master's scoreboard: the master tells systemd READY, and a
    // reload lets the old processes go, once every process is.
    prefork::ScoreWriter up(n);
    Worker(registry, s, n).loop();
    return 0;
}

}  // namespace tasks
