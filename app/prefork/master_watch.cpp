// master_watch.cpp: what the master checks once a tick (harakiri, max lifetime, the stop and
// reload deadlines, the reload triggers) and the stats snapshot it reads from the same slots.
#include <unistd.h>

#include "app/core/log.h"
#include "app/prefork/master.h"
#include "app/prefork/worker_life.h"

namespace prefork {
namespace {

const auto lg = core::logger("master");

void kill_all(Generation& g, const char* why)
{
    for (auto& w : g.workers)
        if (w.pid > 0) {
            LOG4CPLUS_WARN(lg, "worker " << w.id << " (pid " << w.pid << ") still busy " << why
                                         << ": SIGKILL");
            kill(w.pid, SIGKILL);
        }
}

}  // namespace

void Master::tick(Clock::time_point now)
{
    const auto now_ms = steady_ms();
    for (auto* g : {&current_, old_ ? &*old_ : nullptr})
        if (g)
            for (auto& w : g->workers)
                check_harakiri(*g, w, now_ms);
    if (opt_.max_lifetime_seconds > 0 && !stopping_)
        for (auto& w : current_.workers)
            if (w.pid > 0 && !w.told_to_leave &&
                now - w.started >= std::chrono::seconds(opt_.max_lifetime_seconds)) {
                LOG4CPLUS_INFO(lg, "worker " << w.id << " (pid " << w.pid
                                             << ") reached its max lifetime ("
                                             << opt_.max_lifetime_seconds << " s): retiring it");
                tell_to_leave(w, "max lifetime");
            }
    if (stopping_ && now >= stop_deadline_) {
        for (auto* g : {&current_, old_ ? &*old_ : nullptr})
            if (g)
                kill_all(*g, "after the stop grace period");
        stop_deadline_ = now + std::chrono::hours(1);
    }
    if (old_ && old_told_ && now >= old_deadline_) {
        kill_all(*old_, "after the reload mercy period");
        old_deadline_ = now + std::chrono::hours(1);
    }
    if (!stopping_ && reload_file_.changed())
        request_reload("touch of " + reload_file_.path());
    if (!stopping_ && binary_.changed())
        request_reload("new binary " + binary_.path());
    if (check_.expire(now))
        LOG4CPLUS_ERROR(lg, "the reload check ran too long: killed");
}

void Master::check_harakiri(Generation& g, Worker& w, std::int64_t now_ms)
{
    if (opt_.harakiri_seconds <= 0 || w.pid <= 0)
        return;
    const SlotView s = g.board.read(w.id - 1);
    if (s.state != WorkerState::busy || s.request_start_ms == 0)
        return;
    const std::int64_t running = now_ms - s.request_start_ms,
                       limit = opt_.harakiri_seconds * 1000LL;
    if (running < limit * (w.harakiri_tries + 1))  // a next try only after another full period
        return;
    if (++w.harakiri_tries == 1)
        ++counters_.harakiri;
    LOG4CPLUS_ERROR(lg, "HARAKIRI ON WORKER " << w.id << " (pid: " << w.pid
                                              << ", try: " << w.harakiri_tries << ") " << s.method
                                              << " " << s.path << " running " << running / 1000.0
                                              << " s (limit " << opt_.harakiri_seconds << " s)");
    kill(w.pid, SIGKILL);
}

std::string Master::snapshot() const
{
    StatsSnapshot s;
    s.name = opt_.name;
    s.build_id = build_id_;
    s.pid = getpid();
    s.counters = counters_;
    s.last_reload_error = last_reload_error_;
    const auto now = Clock::now();
    const auto now_ms = steady_ms();
    using std::chrono::duration_cast;
    for (const auto* g : {&current_, old_ ? &*old_ : nullptr}) {
        if (!g)
            continue;
        for (const auto& w : g->workers) {
            WorkerStats ws;
            ws.id = w.id;
            ws.pid = w.pid;
            ws.retiring = g->retiring;
            if (w.pid <= 0) {
                ws.state = "down";
                ws.respawn_in_ms = std::max<std::int64_t>(
                    0, duration_cast<std::chrono::milliseconds>(w.respawn_at - now).count());
                s.workers.push_back(ws);
                continue;
            }
            const SlotView v = g->board.read(w.id - 1);
            ws.state =
                w.told_to_leave && v.state != WorkerState::busy ? "leaving" : state_name(v.state);
            ws.requests = static_cast<std::int64_t>(v.requests);
            if (v.state == WorkerState::busy) {
                ws.request = v.method + " " + v.path;
                ws.request_ms = now_ms - v.request_start_ms;
            }
            ws.rss_kb = rss_kb(w.pid);
            ws.age_s = duration_cast<std::chrono::seconds>(now - w.started).count();
            s.workers.push_back(ws);
        }
    }
    s.kept_connections = hub_ ? hub_->open_connections() : 0;
    return stats_json(s);
}

}  // namespace prefork
