// master_reload.cpp: a graceful reload. A trigger (SIGHUP, a touch of the reload file, a new
// binary in local development) starts `program --check`; when it passes, the master hands its
// socket, counters and workers over to a fresh exec of the binary. The new image starts its
// workers, and once they are all up it tells the old ones to finish their request and leave.
// systemd hears RELOADING=1 when a reload starts and READY=1 when it is over, done or aborted;
// the counters in the stats (reloads_started, _done, _failed) tell `server --reload` which.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/core/log.h"
#include "app/prefork/master.h"
#include "app/prefork/notify.h"
#include "app/prefork/process.h"

namespace core {
namespace {

const auto lg = logger("master");

}  // namespace

void Master::adopt(Handover h)
{
    counters_ = h.counters;
    if (h.listen_fd > 0)
        fcntl(h.listen_fd, F_SETFD, FD_CLOEXEC);  // workers get it as fd 0, nothing else does
    Generation g;
    g.retiring = true;
    if (h.board_fd >= 0 && h.board_slots > 0) {
        fcntl(h.board_fd, F_SETFD, FD_CLOEXEC);
        g.board = Scoreboard(h.board_fd, h.board_slots);
    }
    const auto now = Clock::now();
    for (const auto& [id, pid] : h.workers)
        if (id >= 1 && id <= h.board_slots) {
            Worker w{id};
            w.pid = pid;
            w.started = now;
            g.workers.push_back(w);
        }
    old_ = std::move(g);
    old_told_ = false;
    reload_pending_ = h.reload_pending;
    ready_told_ = true;  // systemd heard READY=1 from the first image; the next is the reload's
    reload_started_ = now;
    LOG4CPLUS_INFO(lg, "reload " << counters_.reloads << ": new image running, build " << build_id_
                                 << "; " << old_->workers.size()
                                 << " old workers serve until the new ones are up");
}

void Master::request_reload(const std::string& why)
{
    if (stopping_)
        return;
    if (check_.running() || old_) {
        if (!reload_pending_)
            LOG4CPLUS_INFO(lg, "reload (" << why << ") waits for the one in progress");
        reload_pending_ = true;
        return;
    }
    reload_pending_ = false;
    ++counters_.reloads_started;
    notify_reloading(opt_.name + ": reload (" + why + ")");
    check_.start(why, opt_.program, opt_.args, child_mask_);
}

void Master::hand_over()
{
    Handover h;
    h.listen_fd = opt_.listen_fd;
    h.counters = counters_;
    ++h.counters.reloads;
    h.board_fd = current_.board.fd();
    h.board_slots = current_.board.slots();
    h.metrics_fd = metrics_.fd();
    for (const auto& w : current_.workers)
        if (w.pid > 0)
            h.workers.emplace_back(w.id, w.pid);
    if (hub_) {
        h.conn_table_fd = hub_->table_fd();
        h.conn_poll_fd = hub_->work_poll_fd();
        h.keep_fds = hub_->handover_fds();
        for (const auto& [id, pid] : h.workers)
            h.channels[pid] = hub_->channel_of(pid);
    }
    h.program_stamp = file_stamp(opt_.program);
    h.reload_stamp = reload_file_.stamp();
    h.reload_pending = reload_pending_;
    LOG4CPLUS_INFO(lg, "reload: re-executing " << opt_.program << "; " << h.workers.size()
                                               << " workers serve on meanwhile");
    reexec(opt_.program, opt_.args, h);
    reload_failed("exec " + opt_.program + ": " + std::strerror(errno));
}

void Master::reload_failed(const std::string& error)
{
    ++counters_.reloads_failed;
    last_reload_error_ = error;
    LOG4CPLUS_ERROR(lg, "reload aborted: " << error << "; the old workers keep serving");
    notify_ready(opt_.name + ": serving; the last reload was aborted: " + error);
    if (reload_pending_)
        request_reload("one that waited");
}

void Master::retire_old_when_new_ready(Clock::time_point now)
{
    if (!old_ || old_told_ || !(current_.ready() || stopping_))
        return;
    for (auto& w : old_->workers)
        tell_to_leave(w, "reload");
    old_told_ = true;
    old_deadline_ = now + std::chrono::seconds(opt_.reload_mercy_seconds);
    LOG4CPLUS_INFO(
        lg,
        "reload: new workers up after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(now - reload_started_).count()
            << " ms; the old ones finish their requests and leave");
    if (stopping_)
        return;
    ++counters_.reloads_done;
    last_reload_error_.clear();
    notify_ready(opt_.name + ": " + std::to_string(opt_.workers) + " workers up after reload " +
                 std::to_string(counters_.reloads));
}

}  // namespace core
