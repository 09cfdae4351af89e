// master_metrics.cpp: the master's side of the metrics: the shared table (made, or taken over
// from the image before a reload), the listener, and the page: the master's counters and
// gauges, the workers' request counts, and what the program adds (the server: the spool's).
#include <fcntl.h>
#include <stdlib.h>

#include "app/core/log.h"
#include "app/prefork/master.h"

namespace prefork {
namespace {

const auto lg = core::logger("master");

}  // namespace

void Master::start_metrics(int handed_fd)
{
    if (handed_fd >= 0) {
        fcntl(handed_fd, F_SETFD, FD_CLOEXEC);  // workers get it as fd 4, nothing else does
        metrics_ = MetricsTable(handed_fd);     // the counts so far, and the old workers' slots
    }
    if (opt_.metrics_listen.empty()) {
        metrics_ = MetricsTable();
        unsetenv(kMetricsEnv);  // the environment survives a reload's exec
        return;
    }
    try {
        metrics_server_.emplace(opt_.metrics_listen);
    } catch (const std::exception& e) {
        if (!old_)
            throw;
        LOG4CPLUS_ERROR(lg, "no metrics after the reload: " << e.what());  // keep serving
    }
    if (!metrics_)
        metrics_ = MetricsTable::create();
    if (const int missing = metrics_.bind(opt_.metric_routes))
        LOG4CPLUS_WARN(lg, "metrics table full: " << missing << " routes go uncounted by route");
    setenv(kMetricsEnv, "1", 1);
}

std::string Master::metrics_text() const
{
    std::int64_t busy = 0, idle = 0;
    for (const auto* g : {&current_, old_ ? &*old_ : nullptr})
        if (g)
            for (const auto& w : g->workers)
                if (w.pid > 0) {
                    const auto state = g->board.read(w.id - 1).state;
                    busy += state == WorkerState::busy;
                    idle += state == WorkerState::idle && !w.told_to_leave;
                }
    std::string out = master_text(counters_, busy, idle);
    if (hub_)
        write_family(out, "restpie_kept_connections", "gauge",
                     "FastCGI connections nginx keeps open, shared by the workers.",
                     {{"", static_cast<double>(hub_->open_connections())}});
    out += requests_text(metrics_.read());
    if (opt_.extra_metrics)
        out += opt_.extra_metrics();
    return out;
}

}  // namespace prefork
