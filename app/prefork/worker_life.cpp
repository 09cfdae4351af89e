// worker_life.cpp: the worker's scoreboard updates and its recycling rules.
#include "app/prefork/worker_life.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>

#include "app/core/config.h"

namespace prefork {

std::vector<core::Key> RecycleLimits::keys()
{
    return {core::Key::integer("max_requests", 100000, 0, INT64_MAX),
            core::Key::integer("reload_on_rss_mb", 0, 0, 1 << 20),
            core::Key::integer("min_worker_lifetime_seconds", 10, 0, 86400)};
}

RecycleLimits RecycleLimits::from(const core::Config& c)
{
    RecycleLimits l;
    l.max_requests = static_cast<std::uint64_t>(c.integer("max_requests"));
    l.rss_limit_kb = static_cast<long>(c.integer("reload_on_rss_mb") * 1024);
    l.min_lifetime_seconds = static_cast<int>(c.integer("min_worker_lifetime_seconds"));
    return l;
}

WorkerLife::WorkerLife(int worker_number, const RecycleLimits& limits)
    : board_(worker_number), limits_(limits)
{
}

void WorkerLife::begin(const std::string& method, const std::string& path)
{
    board_.busy(method, path);
}

bool WorkerLife::end()
{
    ++requests_;
    board_.idle(requests_);
    if (std::chrono::steady_clock::now() - started_ <
        std::chrono::seconds(limits_.min_lifetime_seconds))
        return true;
    LeaveReason why = LeaveReason::none;
    if (limits_.max_requests > 0 && requests_ >= limits_.max_requests)
        why = LeaveReason::max_requests;
    else if (limits_.rss_limit_kb > 0 && rss_kb(getpid()) > limits_.rss_limit_kb)
        why = LeaveReason::rss;
    if (why == LeaveReason::none)
        return true;
    board_.leaving(why);
    return false;
}

bool crash_at_start(const std::string& crash_file)
{
    return !crash_file.empty() && access(crash_file.c_str(), F_OK) == 0;
}

long rss_kb(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
    long size = 0, resident = 0;
    if (!(in >> size >> resident))
        return 0;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace prefork
