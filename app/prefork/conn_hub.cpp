// conn_hub.cpp: the master's side of the shared connections.
#include "app/prefork/conn_hub.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "app/core/log.h"

namespace prefork {
namespace {

const auto lg = core::logger("master");
// An epoll tag: a connection's slot, or a channel's pid with this bit.
constexpr std::uint64_t kChannelTag = 1ull << 32;

bool add_to(int ep, int fd, std::uint32_t events, std::uint64_t tag)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

}  // namespace

ConnHub::ConnHub(ConnTable table, int work_ep, bool)
    : table_(std::move(table)), ep_(epoll_create1(EPOLL_CLOEXEC)), work_ep_(work_ep)
{
    if (ep_ < 0 || work_ep_ < 0)
        throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
}

ConnHub::ConnHub(ConnTable table, int listen_fd)
    : ConnHub(std::move(table), epoll_create1(EPOLL_CLOEXEC), true)
{
    // Level-triggered: a worker that finds nothing to accept (another took it) just waits again.
    if (!add_to(work_ep_, listen_fd, EPOLLIN, kListenTag))
        throw std::runtime_error(std::string("epoll on the listening socket: ") +
                                 std::strerror(errno));
}

ConnHub::ConnHub(ConnTable table, int work_poll_fd, const std::map<pid_t, int>& channels)
    : ConnHub(std::move(table), work_poll_fd, true)
{
    fcntl(table_.fd(), F_SETFD, FD_CLOEXEC);
    fcntl(work_ep_, F_SETFD, FD_CLOEXEC);
    for (int k = 0; k < table_.slots(); ++k) {
        if (!kept(k))
            continue;  // free, or a share still on its way in a channel
        fcntl(table_.fd_of(k), F_SETFD, FD_CLOEXEC);
        if (!add_to(ep_, table_.fd_of(k), EPOLLRDHUP, static_cast<std::uint64_t>(k)))
            end(k, false);
    }
    for (const auto& [pid, fd] : channels) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        auto& ch = channels_[pid];
        ch.fd = fd;
        watch_channel(pid, ch);
    }
}

ConnHub::~ConnHub()
{
    abort_open();
    for (auto& [pid, ch] : channels_)
        close(ch.fd);
    for (int k = 0; k < table_.slots(); ++k)
        if (kept(k))
            close(table_.fd_of(k));
    close(ep_);
    close(work_ep_);
}

bool ConnHub::kept(int k) const
{
    return table_.at(k).kept.load(std::memory_order_relaxed) != 0;
}

int ConnHub::open_connections() const
{
    int n = 0;
    for (int k = 0; k < table_.slots(); ++k)
        n += kept(k);
    return n;
}

int ConnHub::open_channel()
{
    abort_open();
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    fcntl(pair[0], F_SETFL, O_NONBLOCK);  // the master never waits on a worker
    pending_master_end_ = pair[0];
    pending_child_end_ = pair[1];
    return pair[1];
}

void ConnHub::abort_open()
{
    for (int* fd : {&pending_master_end_, &pending_child_end_})
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
}

void ConnHub::attach(pid_t pid)
{
    close(pending_child_end_);
    pending_child_end_ = -1;
    auto& ch = channels_[pid];
    ch = Channel{};
    ch.fd = pending_master_end_;
    pending_master_end_ = -1;
    watch_channel(pid, ch);
    for (int k = 0; k < table_.slots(); ++k)
        if (kept(k))
            ch.out.push_back(
                {ConnMsg::add, static_cast<std::uint32_t>(k), table_.at(k).serial.load()});
    flush(pid, ch);
}

void ConnHub::watch_channel(pid_t pid, Channel& ch)
{
    if (!add_to(ep_, ch.fd, EPOLLIN, kChannelTag | static_cast<std::uint32_t>(pid)))
        LOG4CPLUS_ERROR(lg, "epoll on worker " << pid << "'s channel: " << std::strerror(errno));
}

int ConnHub::channel_of(pid_t pid) const
{
    const auto it = channels_.find(pid);
    return it == channels_.end() ? -1 : it->second.fd;
}

std::vector<int> ConnHub::handover_fds() const
{
    std::vector<int> fds{table_.fd(), work_ep_};
    for (const auto& [pid, ch] : channels_)
        fds.push_back(ch.fd);
    for (int k = 0; k < table_.slots(); ++k)
        if (kept(k))
            fds.push_back(table_.fd_of(k));
    return fds;
}

void ConnHub::serve()
{
    epoll_event evs[64];
    int n;
    while ((n = epoll_wait(ep_, evs, 64, 0)) > 0) {
        for (int i = 0; i < n; ++i) {
            const std::uint64_t tag = evs[i].data.u64;
            if (!(tag & kChannelTag)) {
                const int k = static_cast<int>(tag);
                if (kept(k))
                    end(k, false);  // nginx closed it (or it broke)
                continue;
            }
            const auto pid = static_cast<pid_t>(tag & 0xffffffffu);
            const auto it = channels_.find(pid);
            if (it == channels_.end())
                continue;
            if (evs[i].events & EPOLLIN)
                read_channel(pid, it->second);
            if (evs[i].events & EPOLLOUT)
                flush(pid, it->second);
            if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
                // The worker is gone (its reap follows): stop polling the dead channel.
                read_channel(pid, it->second);
                epoll_ctl(ep_, EPOLL_CTL_DEL, it->second.fd, nullptr);
                it->second.out.clear();
            }
        }
        if (n < 64)
            break;
    }
}

void ConnHub::read_channel(pid_t pid, Channel& ch)
{
    ConnMsg kind;
    std::vector<ConnEntry> entries;
    while (recv_conns(ch.fd, kind, entries))
        for (const auto& e : entries) {
            if (kind == ConnMsg::share)
                keep(e, pid);
            else if (e.fd >= 0)
                close(e.fd);
        }
}

// A connection a worker accepted: the master keeps a duplicate on the slot's fd number, hands it to
// every other worker and puts it in the workers' epoll set.
void ConnHub::keep(const ConnEntry& e, pid_t from)
{
    const int k = static_cast<int>(e.slot);
    if (e.fd < 0 || k < 0 || k >= table_.slots() || !table_.current(k, e.serial) || kept(k)) {
        if (e.fd >= 0)
            close(e.fd);
        return;
    }
    const int fd = table_.fd_of(k);
    if (e.fd != fd && dup3(e.fd, fd, O_CLOEXEC) < 0) {
        LOG4CPLUS_ERROR(lg, "a shared connection on fd " << fd << ": " << std::strerror(errno));
        close(e.fd);
        return;
    }
    if (e.fd != fd)
        close(e.fd);
    // EPOLLRDHUP without EPOLLIN: woken when nginx closes it, not by every request on it.
    if (!add_to(ep_, fd, EPOLLRDHUP, static_cast<std::uint64_t>(k))) {
        LOG4CPLUS_ERROR(lg, "epoll on a shared connection: " << std::strerror(errno));
        close(fd);
        return;
    }
    table_.at(k).kept.store(1);
    for (auto& [pid, ch] : channels_)
        if (pid != from && !ch.leaving) {
            ch.out.push_back({ConnMsg::add, e.slot, e.serial});
            flush(pid, ch);
        }
    // Last, so a worker woken for it has been sent its fd already.
    if (!add_to(work_ep_, fd, kConnEvents, static_cast<std::uint64_t>(k)))
        LOG4CPLUS_ERROR(lg, "epoll (workers') on a shared connection: " << std::strerror(errno));
}

void ConnHub::end(int k, bool cut)
{
    if (kept(k)) {
        const int fd = table_.fd_of(k);
        if (cut)
            shutdown(fd, SHUT_RDWR);  // for every holder: nginx sees the end at once
        epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        epoll_ctl(work_ep_, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
    }
    table_.free(k);
}

void ConnHub::leaving(pid_t pid)
{
    const auto it = channels_.find(pid);
    if (it != channels_.end()) {
        it->second.leaving = true;
        it->second.out.clear();
    }
}

void ConnHub::worker_gone(pid_t pid)
{
    const auto it = channels_.find(pid);
    if (it != channels_.end()) {
        read_channel(pid, it->second);  // a share it sent before it died is still good
        epoll_ctl(ep_, EPOLL_CTL_DEL, it->second.fd, nullptr);
        close(it->second.fd);
        channels_.erase(it);
    }
    // A request it was serving: cut that connection, so nginx answers 502 now. A slot it took but
    // never shared: free it.
    for (int k = 0; k < table_.slots(); ++k)
        if (table_.at(k).owner.load() == pid && table_.at(k).serial.load() % 2 == 1)
            end(k, true);
    // An event handed to it (a one-shot, for a request it had not claimed yet) died with it:
    // re-arm every connection. One in a request elsewhere wakes nobody it should not (the worker
    // woken finds it claimed and leaves it to the one serving it, which re-arms it after).
    for (int k = 0; k < table_.slots(); ++k)
        if (kept(k)) {
            epoll_event ev{};
            ev.events = kConnEvents;
            ev.data.u64 = static_cast<std::uint64_t>(k);
            epoll_ctl(work_ep_, EPOLL_CTL_MOD, table_.fd_of(k), &ev);
        }
}

void ConnHub::flush(pid_t pid, Channel& ch)
{
    while (!ch.out.empty()) {
        ConnEntry batch[kMaxEntriesPerMsg];
        std::size_t n = 0, taken = 0;
        const ConnMsg kind = ch.out.front().kind;
        for (const auto& o : ch.out) {
            if (o.kind != kind || n == kMaxEntriesPerMsg)
                break;
            ++taken;
            const int k = static_cast<int>(o.slot);
            // A connection that ended while queued is skipped.
            if (table_.current(k, o.serial) && kept(k))
                batch[n++] = {o.slot, o.serial, table_.fd_of(k)};
        }
        if (n > 0) {
            if (!send_conns(ch.fd, kind, batch, n, MSG_DONTWAIT)) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    set_out(pid, ch, true);  // the worker is busy: go on when it reads
                else
                    ch.out.clear();  // it is gone: its reap follows
                return;
            }
            table_.sent();  // the workers look at their channels
        }
        ch.out.erase(ch.out.begin(), ch.out.begin() + static_cast<long>(taken));
    }
    set_out(pid, ch, false);
}

void ConnHub::set_out(pid_t pid, Channel& ch, bool want)
{
    if (ch.want_out == want)
        return;
    ch.want_out = want;
    epoll_event ev{};
    ev.events = want ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.u64 = kChannelTag | static_cast<std::uint32_t>(pid);
    epoll_ctl(ep_, EPOLL_CTL_MOD, ch.fd, &ev);
}

}  // namespace prefork
