// conn_table.h: shared kept FastCGI connections (docs/design.md#shared-connections). Every worker
// holds a duplicate of every kept connection, and all of them wait on one epoll set that the master
// owns (fd 7 in a worker): each connection is in it once, EPOLLONESHOT, so a request wakes exactly
// one idle worker, which claims the connection here, serves the one request nginx sent on it,
// releases it and re-arms it. So a request never waits behind another while a worker is idle, and a
// worker that leaves (retires, reloads, stops, dies) takes no connection with it: only nginx closes
// one for good.
//
// The table is shared memory (a memfd the master creates, fd 6 in a worker, handed over on
// reload). A slot is one connection: `serial` is odd while it is in use (a new connection makes it
// odd, its end even again); `owner` is the pid serving a request on it, 0 when none. A worker takes
// a free slot for a connection it accepted; only the master frees one (when nginx closed it, or its
// owner died). Every process keeps slot k's connection on the same fd number, fd_base + k, so any
// of them can re-arm or remove it in the shared epoll set (which knows an fd by its number).
//
// Each worker has a channel to the master (a SOCK_SEQPACKET pair, fd 5 in the worker): the worker
// shares a connection it accepted (its fd, by SCM_RIGHTS) and the master hands every connection to
// every other worker.
#pragma once
#include <sys/epoll.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace prefork {

struct ConnSlot {
    std::atomic<std::uint32_t> serial;  // odd: in use
    std::atomic<std::int32_t> owner;    // the pid serving a request on it, 0: none
    std::atomic<std::uint32_t> kept;    // the master holds it (and it is in the epoll set)
    std::uint32_t pad;
};

struct ConnTableHeader {
    std::atomic<std::uint64_t> frees;  // slots freed so far: a worker sweeps its fds when it moved
    std::atomic<std::uint64_t> sends;  // messages the master sent: a worker reads its channel then
    std::uint32_t slots, fd_base;
};

class ConnTable {
public:
    ConnTable() = default;
    ConnTable(int fd, bool owner);  // maps an existing table (a worker's fd 6, a reload's)
    ~ConnTable();
    ConnTable(ConnTable&& o) noexcept { *this = std::move(o); }
    ConnTable& operator=(ConnTable&& o) noexcept;

    static ConnTable create(int slots, int fd_base);  // the master's
    explicit operator bool() const { return head_ != nullptr; }
    int fd() const { return fd_; }
    int slots() const { return head_ ? static_cast<int>(head_->slots) : 0; }
    ConnSlot& at(int k) const { return slot_[k]; }
    std::uint64_t frees() const { return head_->frees.load(std::memory_order_acquire); }
    std::uint64_t sends() const { return head_->sends.load(std::memory_order_acquire); }
    void sent() const { head_->sends.fetch_add(1, std::memory_order_release); }
    int fd_of(int k) const { return static_cast<int>(head_->fd_base) + k; }  // in every process

    // A worker: a free slot for a connection it accepted, claimed by `pid`; -1 when all are taken.
    int take(pid_t pid, std::uint32_t& serial) const;
    // Claims slot k for a request when it still holds connection `serial` and nobody serves it.
    bool claim(int k, std::uint32_t serial, pid_t pid) const;
    void release(int k) const { slot_[k].owner.store(0, std::memory_order_release); }
    bool current(int k, std::uint32_t serial) const
    {
        return slot_[k].serial.load(std::memory_order_acquire) == serial;
    }
    // The master: the connection in slot k has ended; workers drop their duplicates.
    void free(int k) const;

private:
    int fd_ = -1;
    bool owns_fd_ = false;
    std::size_t bytes_ = 0;
    ConnTableHeader* head_ = nullptr;
    ConnSlot* slot_ = nullptr;
};

constexpr int kConnChannelFd = 5;  // after the scoreboard (3) and the metrics (4)
constexpr int kConnTableFd = 6;
constexpr int kConnPollFd = 7;
constexpr int kConnFdBase = 1024;  // slot k's connection is this fd + k in every process
constexpr std::uint32_t kListenTag =
    ~0u;  // the listening socket's tag in the epoll set; else a slot
// How a connection waits in the epoll set: one worker per event, then re-armed by it.
constexpr std::uint32_t kConnEvents = EPOLLIN | EPOLLONESHOT;
// Raises this process's soft open-files limit to its hard one (every process holds every kept
// connection, at kConnFdBase + slot, and fds in flight over the channels count too) and returns
// how many of `wanted` slots fit under it (0 or more).
int slots_within_fd_limit(int wanted);
// Set in a worker's environment when it has a table and a channel on those fds.
extern const char* const kConnTableEnv;

// A message on a worker's channel: `share` (worker -> master) and `add` (master -> worker), one
// fd per entry.
enum class ConnMsg : std::uint32_t { share = 1, add = 2 };

struct ConnEntry {
    std::uint32_t slot, serial;
    int fd;
};

constexpr std::size_t kMaxEntriesPerMsg = 32;

// Sends up to kMaxEntriesPerMsg entries with their fds; false on EAGAIN (with `flags`
// MSG_DONTWAIT) or an error (errno set).
bool send_conns(int channel, ConnMsg kind, const ConnEntry* entries, std::size_t n, int flags);
// Receives one message without waiting; the fds arrive close-on-exec. false when none is there
// (EAGAIN) or the other end is gone (errno 0 for EOF).
bool recv_conns(int channel, ConnMsg& kind, std::vector<ConnEntry>& entries);

}  // namespace prefork
