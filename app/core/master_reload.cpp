// master_reload.cpp: a graceful reload. A trigger (SIGHUP, a touch of the reload file, a new
// binary in local development) starts `program --check`; when it passes, the master hands its
// socket, counters and workers over to a fresh exec of the binary. The new image starts its
// workers, and once they are all up it tells the old ones to finish their request and leave.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/core/log.h"
#include "app/core/master.h"
#include "app/core/process.h"

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
    LOG4CPLUS_INFO(lg, "reload (" << why << "): checking " << opt_.program << " --check");
    checked_stamp_ = file_stamp(opt_.program);
    check_.start(opt_.program, opt_.args, child_mask_);
    if (!check_.running())
        LOG4CPLUS_ERROR(lg, "reload aborted: cannot run the check: " << std::strerror(errno)
                                                                     << "; the old workers keep serving");
}

void Master::check_done(int status)
{
    const std::string error = check_.finish(status);
    if (stopping_)
        return;
    if (!error.empty()) {
        LOG4CPLUS_ERROR(lg, "reload aborted: " << opt_.program << " --check failed (" << error
                                               << "); the old workers keep serving");
        return;
    }
    if (file_stamp(opt_.program) != checked_stamp_) {  // replaced while it was being checked
        request_reload("the binary changed during the check");
        return;
    }
    hand_over();
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
    h.program_stamp = file_stamp(opt_.program);
    h.reload_stamp = reload_file_.stamp();
    LOG4CPLUS_INFO(lg, "reload: re-executing " << opt_.program << "; " << h.workers.size()
                                               << " workers serve on meanwhile");
    reexec(opt_.program, opt_.args, h);
    LOG4CPLUS_ERROR(lg, "reload aborted: exec " << opt_.program << ": " << std::strerror(errno)
                                                << "; the old workers keep serving");
}

void Master::retire_old_when_new_ready(Clock::time_point now)
{
    if (!old_ || old_told_ || !(current_.ready() || stopping_))
        return;
    for (auto& w : old_->workers)
        tell_to_leave(w, "reload");
    old_told_ = true;
    old_deadline_ = now + std::chrono::seconds(opt_.reload_mercy_seconds);
    LOG4CPLUS_INFO(lg, "reload: new workers up after "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(now - reload_started_).count()
                           << " ms; the old ones finish their requests and leave");
}

}  // namespace core
