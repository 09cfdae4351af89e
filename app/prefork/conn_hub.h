// conn_hub.h: the master's side of the shared connections (conn_table.h). It owns the epoll set the
// workers wait on (the listening socket and every kept connection); keeps a duplicate of every
// kept connection, so a connection outlives any worker; hands each connection a worker shares to
// all the others, and the whole set to a new worker; frees a connection's slot when nginx closes
// it; and when a worker dies, cuts the connection it was serving a request on (so nginx answers 502
// at once instead of waiting for its read timeout) and re-arms the others (an event handed to it
// died with it). Its own fd (another epoll set: nginx's closes, the channels) goes into the
// master's poll.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "app/prefork/conn_table.h"

namespace prefork {

class ConnHub {
public:
    // A new table, with the listening socket in the workers' epoll set.
    ConnHub(ConnTable table, int listen_fd);
    // After a reload: the table, the workers' epoll set and the old workers' channels, handed over
    // with every connection.
    ConnHub(ConnTable table, int work_poll_fd, const std::map<pid_t, int>& channels);
    ~ConnHub();
    ConnHub(const ConnHub&) = delete;
    ConnHub& operator=(const ConnHub&) = delete;

    int poll_fd() const { return ep_; }
    int table_fd() const { return table_.fd(); }
    int work_poll_fd() const { return work_ep_; }
    int open_connections() const;

    // A worker's spawn: open_channel() gives the worker's end (its fd 5); after the fork,
    // attach(pid) (which queues every open connection for it) or, when the fork failed,
    // abort_open().
    int open_channel();
    void attach(pid_t pid);
    void abort_open();

    void serve();                 // whatever is ready: shares, ended connections, queued sends
    void leaving(pid_t pid);      // told to leave: it gets no more connections
    void worker_gone(pid_t pid);  // reaped

    int channel_of(pid_t pid) const;
    // Every fd the next master image must inherit: the table, the channels, the connections.
    std::vector<int> handover_fds() const;

private:
    struct Out {
        ConnMsg kind;
        std::uint32_t slot, serial;
    };
    struct Channel {
        int fd = -1;
        bool leaving = false, want_out = false;
        std::deque<Out> out;
    };
    ConnHub(ConnTable table, int work_ep, bool);
    void watch_channel(pid_t pid, Channel& ch);
    void read_channel(pid_t pid, Channel& ch);
    void keep(const ConnEntry& e, pid_t from);
    void end(int k, bool cut);
    bool kept(int k) const;
    void flush(pid_t pid, Channel& ch);
    void set_out(pid_t pid, Channel& ch, bool want);

    ConnTable table_;
    int ep_ = -1;       // the master's: nginx's closes (EPOLLRDHUP), the channels
    int work_ep_ = -1;  // the workers': the listening socket and the connections
    int pending_child_end_ = -1, pending_master_end_ = -1;
    std::map<pid_t, Channel> channels_;
};

}  // namespace prefork
