// conn_table.cpp: the shared connection table and the channel messages.
#include "app/prefork/conn_table.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace prefork {

const char* const kConnTableEnv = "SUPERVISOR_CONNECTIONS";

namespace {

std::size_t table_bytes(std::size_t slots)
{
    return sizeof(ConnTableHeader) + slots * sizeof(ConnSlot);
}

struct Wire {
    std::uint32_t kind, count;
    struct {
        std::uint32_t slot, serial;
    } e[kMaxEntriesPerMsg];
};

}  // namespace

int slots_within_fd_limit(int wanted)
{
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 0;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    const long limit = static_cast<long>(std::min<rlim_t>(r.rlim_cur, 1L << 30));
    return static_cast<int>(std::clamp<long>(limit - kConnFdBase - 64, 0, wanted));
}

ConnTable::ConnTable(int fd, bool owner) : fd_(fd), owns_fd_(owner)
{
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(ConnTableHeader)))
        throw std::runtime_error("connection table: not a table on fd " + std::to_string(fd));
    bytes_ = static_cast<std::size_t>(st.st_size);
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error(std::string("connection table mmap: ") + std::strerror(errno));
    head_ = static_cast<ConnTableHeader*>(p);
    slot_ = reinterpret_cast<ConnSlot*>(static_cast<char*>(p) + sizeof(ConnTableHeader));
    if (table_bytes(head_->slots) > bytes_)
        throw std::runtime_error("connection table: truncated");
}

ConnTable::~ConnTable()
{
    if (head_)
        munmap(head_, bytes_);
    if (owns_fd_ && fd_ >= 0)
        close(fd_);
}

ConnTable& ConnTable::operator=(ConnTable&& o) noexcept
{
    std::swap(fd_, o.fd_);
    std::swap(owns_fd_, o.owns_fd_);
    std::swap(bytes_, o.bytes_);
    std::swap(head_, o.head_);
    std::swap(slot_, o.slot_);
    return *this;
}

ConnTable ConnTable::create(int slots, int fd_base)
{
    // Close-on-exec: a worker gets it as fd 6 through dup2, a reload hands it over explicitly.
    const int fd = memfd_create("connections", MFD_CLOEXEC);
    const auto bytes = table_bytes(static_cast<std::size_t>(slots));
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) < 0)
        throw std::runtime_error(std::string("connection table memfd: ") + std::strerror(errno));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error(std::string("connection table mmap: ") + std::strerror(errno));
    auto* head = static_cast<ConnTableHeader*>(p);  // the file starts zeroed: all slots free
    head->slots = static_cast<std::uint32_t>(slots);
    head->fd_base = static_cast<std::uint32_t>(fd_base);
    munmap(p, bytes);
    return ConnTable(fd, true);
}

int ConnTable::take(pid_t pid, std::uint32_t& serial) const
{
    for (int k = 0; k < slots(); ++k) {
        std::uint32_t s = slot_[k].serial.load(std::memory_order_relaxed);
        if (s % 2 == 0 &&
            slot_[k].serial.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel)) {
            // Still ours alone: nobody else knows the slot until the master hands it out.
            slot_[k].owner.store(static_cast<std::int32_t>(pid), std::memory_order_release);
            serial = s + 1;
            return k;
        }
    }
    return -1;
}

bool ConnTable::claim(int k, std::uint32_t serial, pid_t pid) const
{
    std::int32_t none = 0;
    if (!slot_[k].owner.compare_exchange_strong(none, static_cast<std::int32_t>(pid),
                                                std::memory_order_acq_rel))
        return false;
    if (current(k, serial))
        return true;
    release(k);  // the slot holds a newer connection now: ours has ended
    return false;
}

void ConnTable::free(int k) const
{
    slot_[k].kept.store(0, std::memory_order_relaxed);
    slot_[k].owner.store(0, std::memory_order_relaxed);
    slot_[k].serial.fetch_add(1, std::memory_order_release);  // even: free
    head_->frees.fetch_add(1, std::memory_order_release);
}

bool send_conns(int channel, ConnMsg kind, const ConnEntry* entries, std::size_t n, int flags)
{
    Wire w{};
    w.kind = static_cast<std::uint32_t>(kind);
    w.count = static_cast<std::uint32_t>(n);
    char control[CMSG_SPACE(sizeof(int) * kMaxEntriesPerMsg)] = {};
    for (std::size_t i = 0; i < n; ++i)
        w.e[i] = {entries[i].slot, entries[i].serial};
    iovec iov{&w, sizeof w};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (n > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        auto* fds = reinterpret_cast<int*>(CMSG_DATA(c));
        for (std::size_t i = 0; i < n; ++i)
            fds[i] = entries[i].fd;
    }
    ssize_t rc;
    do
        rc = sendmsg(channel, &msg, flags | MSG_NOSIGNAL);
    while (rc < 0 && errno == EINTR);
    return rc == static_cast<ssize_t>(sizeof w);
}

bool recv_conns(int channel, ConnMsg& kind, std::vector<ConnEntry>& entries)
{
    Wire w{};
    char control[CMSG_SPACE(sizeof(int) * kMaxEntriesPerMsg)];
    iovec iov{&w, sizeof w};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t rc;
    do
        rc = recvmsg(channel, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        if (rc == 0)
            errno = 0;
        return false;
    }
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const auto* p = reinterpret_cast<const int*>(CMSG_DATA(c));
            fds.assign(p, p + (c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        }
    kind = static_cast<ConnMsg>(w.kind);
    entries.clear();
    const std::size_t n = std::min<std::size_t>(w.count, kMaxEntriesPerMsg);
    for (std::size_t i = 0; i < n; ++i)
        entries.push_back({w.e[i].slot, w.e[i].serial, i < fds.size() ? fds[i] : -1});
    for (std::size_t i = n; i < fds.size(); ++i)
        close(fds[i]);  // more fds than entries: a malformed message, keep none of them
    return true;
}

}  // namespace prefork
