// conn_hub.cpp: the master's side of the shared connections.
#include "app/core/conn_hub.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "app/core/log.h"

namespace core {
namespace {

const auto lg = logger("master");
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

void raise_fd_limit()
{
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

ConnHub::ConnHub(ConnTable table) : table_(std::move(table)), ep_(epoll_create1(EPOLL_CLOEXEC))
{
    if (ep_ < 0)
        throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
}

ConnHub::ConnHub(ConnTable table, const std::map<pid_t, int>& channels) : ConnHub(std::move(table))
{
    fcntl(table_.fd(), F_SETFD, FD_CLOEXEC);
    for (int k = 0; k < table_.slots(); ++k) {
        const int fd = table_.at(k).master_fd.load();
        if (fd < 0)
            continue;  // free, or a share still on its way in a channel
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (!add_to(ep_, fd, EPOLLRDHUP, static_cast<std::uint64_t>(k)))
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
        if (table_.at(k).master_fd.load() >= 0)
            close(table_.at(k).master_fd.load());
    close(ep_);
}

int ConnHub::open_connections() const
{
    int n = 0;
    for (int k = 0; k < table_.slots(); ++k)
        n += table_.at(k).master_fd.load(std::memory_order_relaxed) >= 0;
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
        if (table_.at(k).master_fd.load() >= 0)
            ch.out.push_back({ConnMsg::add, static_cast<std::uint32_t>(k), table_.at(k).serial.load()});
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
    std::vector<int> fds{table_.fd()};
    for (const auto& [pid, ch] : channels_)
        fds.push_back(ch.fd);
    for (int k = 0; k < table_.slots(); ++k)
        if (table_.at(k).master_fd.load() >= 0)
            fds.push_back(table_.at(k).master_fd.load());
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
                if (table_.at(k).master_fd.load() >= 0)
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

// A connection a worker accepted: the master keeps a duplicate and hands it to every other worker.
void ConnHub::keep(const ConnEntry& e, pid_t from)
{
    const int k = static_cast<int>(e.slot);
    if (e.fd < 0 || k < 0 || k >= table_.slots() || !table_.current(k, e.serial) ||
        table_.at(k).master_fd.load() >= 0) {
        if (e.fd >= 0)
            close(e.fd);
        return;
    }
    // EPOLLRDHUP without EPOLLIN: woken when nginx closes it, not by every request on it.
    if (!add_to(ep_, e.fd, EPOLLRDHUP, static_cast<std::uint64_t>(k))) {
        LOG4CPLUS_ERROR(lg, "epoll on a shared connection: " << std::strerror(errno));
        close(e.fd);
        return;
    }
    table_.at(k).master_fd.store(e.fd);
    for (auto& [pid, ch] : channels_)
        if (pid != from && !ch.leaving) {
            ch.out.push_back({ConnMsg::add, e.slot, e.serial});
            flush(pid, ch);
        }
}

void ConnHub::end(int k, bool cut)
{
    const int fd = table_.at(k).master_fd.load();
    if (fd >= 0) {
        if (cut)
            shutdown(fd, SHUT_RDWR);  // for every holder: nginx sees the end at once
        epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
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
    // A wake-up for a request or a new connection may have gone to it and died with it.
    for (auto& [other, ch] : channels_)
        if (!ch.leaving) {
            ch.out.push_back({ConnMsg::rescan, 0, 0});
            flush(other, ch);
        }
}

void ConnHub::flush(pid_t pid, Channel& ch)
{
    while (!ch.out.empty()) {
        ConnEntry batch[kMaxEntriesPerMsg];
        std::size_t n = 0, taken = 0;
        const ConnMsg kind = ch.out.front().kind;
        for (const auto& o : ch.out) {
            if (o.kind != kind || n == kMaxEntriesPerMsg || (kind == ConnMsg::rescan && taken == 1))
                break;
            ++taken;
            const int k = static_cast<int>(o.slot);
            // A connection that ended while queued is skipped.
            if (kind == ConnMsg::add && table_.current(k, o.serial) && table_.at(k).master_fd.load() >= 0)
                batch[n++] = {o.slot, o.serial, table_.at(k).master_fd.load()};
        }
        if ((kind == ConnMsg::add && n > 0) || kind == ConnMsg::rescan) {
            if (!send_conns(ch.fd, kind, batch, n, MSG_DONTWAIT)) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    set_out(pid, ch, true);  // the worker is busy: go on when it reads
                else
                    ch.out.clear();  // it is gone: its reap follows
                return;
            }
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

}  // namespace core
