// fcgi.cpp: the worker's accept loop on libfcgi. Kept connections are shared by all workers
// (docs/design.md#shared-connections): each idle worker waits on the listening socket and on every
// kept connection, the one woken claims the connection, serves the one request nginx sent on it
// and releases it. A worker serves one request at a time, and leaving (stop, reload, recycling)
// costs no connection: the others and the master hold it; only nginx closes one for good.
#include "app/prefork/fcgi.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/prefork/conn_table.h"
#include "app/prefork/listen.h"
#include "app/core/log.h"

namespace prefork {
namespace {

const auto lg = core::logger("fcgi");
volatile sig_atomic_t g_stop = 0;
const int kStopSignals[] = {SIGTERM, SIGUSR1, SIGQUIT};
// New connections a worker takes from the listening socket in one turn besides the one it serves
// (the rest it shares unread): bounded, so the request it has read waits little.
constexpr int kAcceptBurst = 64;

void on_stop(int)
{
    g_stop = 1;
}

// Returns the signal mask to wait with: the current one without the stop signals, which stay
// blocked everywhere else.
sigset_t install_signals()
{
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the wait for a connection must return EINTR
    sigset_t stops;
    sigemptyset(&stops);
    for (int sig : kStopSignals) {
        sigaction(sig, &sa, nullptr);
        sigaddset(&stops, sig);
    }
    // Ctrl-C in a terminal reaches the whole process group; the master decides, not the workers.
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t waiting;
    sigprocmask(SIG_BLOCK, &stops, &waiting);
    for (int sig : kStopSignals)
        sigdelset(&waiting, sig);
    return waiting;
}

// The epoll set the workers share (conn_table.h): the listening socket and every kept connection,
// each connection one-shot. Its events are divided among the waiting workers by the kernel, one
// per wake-up, so no worker sits on an event another could serve.
class Poller {
public:
    struct Event {
        std::uint32_t tag, events;
    };
    explicit Poller(int ep) : ep_(ep) {}
    // One event, nothing on a signal or after `timeout_ms`.
    std::optional<Event> wait(const sigset_t& mask, int timeout_ms) const
    {
        epoll_event ev;
        if (epoll_pwait(ep_, &ev, 1, timeout_ms, &mask) != 1)
            return std::nullopt;
        return Event{ev.data.u32, ev.events};
    }
    // A connection waits for its next request again (after a request, or an event not ours).
    void rearm(int fd, int k) const { ctl(EPOLL_CTL_MOD, fd, k); }
    void add(int fd, int k) const { ctl(EPOLL_CTL_ADD, fd, k); }
    void remove(int fd) const { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }

private:
    void ctl(int op, int fd, int k) const
    {
        epoll_event ev{};
        ev.events = kConnEvents;
        ev.data.u64 = static_cast<std::uint64_t>(k);
        epoll_ctl(ep_, op, fd, &ev);  // ENOENT: the master has taken it out (nginx closed it)
    }
    int ep_;
};

// The kept connections as this worker sees them: slot k's connection is on fd table.fd_of(k) when
// held_[k] holds its serial (0: none). Without a master (a worker run by hand) the table and the
// epoll set are its own and nothing is shared.
class Connections {
public:
    Connections() : pid_(getpid())
    {
        if (std::getenv(kConnTableEnv)) {
            table_ = ConnTable(kConnTableFd, true);
            channel_ = kConnChannelFd;
            ep_ = kConnPollFd;
        } else {
            // Its own kept connections, on fds 1024 + slot too: as many as the open-files limit
            // leaves room for (none: every connection is closed after its request).
            table_ = ConnTable::create(slots_within_fd_limit(64), kConnFdBase);
            if (table_.slots() == 0)
                LOG4CPLUS_WARN(
                    lg,
                    "no kept connections: the open-files limit leaves no room (raise LimitNOFILE)");
            ep_ = epoll_create1(EPOLL_CLOEXEC);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = kListenTag;
            if (ep_ < 0 || epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) != 0)
                throw std::runtime_error(std::string("epoll on the listening socket: ") +
                                         std::strerror(errno));
        }
        held_.assign(static_cast<std::size_t>(table_.slots()), 0);
        frees_seen_ = table_.frees();
    }
    ~Connections()
    {
        for (int k = 0; k < table_.slots(); ++k)
            drop(k);
    }
    Poller poller() const { return Poller(ep_); }
    int fd_of(int k) const { return table_.fd_of(k); }
    bool master_gone() const { return master_gone_; }

    // Whether share() can hand connections to other workers (there is a master and a table).
    bool shares() const { return channel_ >= 0 && table_.slots() > 0; }
    // A connection this worker accepted (`fd`): into the table, to the master (which hands it to
    // the others and puts it in the epoll set) and onto the slot's fd number. `serving`: libfcgi
    // has read its first request, on which nginx asked to keep it, and this worker serves it: the
    // slot is returned claimed by this worker, released after the reply. Else it is shared
    // unread: the slot is released here, before the master puts the connection in the epoll set,
    // so whichever worker its request wakes can claim it. -1 when no slot is free (the caller
    // serves the request and closes the connection).
    int share(int fd, bool serving = true)
    {
        std::uint32_t serial = 0;
        if (table_.slots() == 0)
            return -1;  // said once, at start
        const int k = table_.take(pid_, serial);
        if (k < 0) {
            LOG4CPLUS_WARN(lg, "all " << table_.slots()
                                      << " kept-connection slots are in use: closing one after its "
                                         "request (lower nginx's upstream keepalive)");
            return -1;
        }
        if (dup3(fd, table_.fd_of(k), O_CLOEXEC) < 0) {
            LOG4CPLUS_ERROR(lg, "cannot keep a connection: " << std::strerror(errno));
            table_.free(k);  // never shared: nobody else knows the slot
            return -1;
        }
        close(fd);
        held_[static_cast<std::size_t>(k)] = serial;
        if (!serving)
            table_.release(k);
        const ConnEntry e{static_cast<std::uint32_t>(k), serial, table_.fd_of(k)};
        if (channel_ < 0)
            poller().add(table_.fd_of(k), k);  // no master: this worker keeps it alone
        else if (!send_conns(channel_, ConnMsg::share, &e, 1, 0))
            LOG4CPLUS_ERROR(lg, "cannot hand a connection to the master: " << std::strerror(errno));
        return k;
    }

    // Slot k's event: claims its connection and returns its fd when a request waits on it, else
    // -1 (nginx closed it, or another worker serves it and re-arms it after). A one-shot event is
    // either served or re-armed: never dropped.
    int claim(int k, std::uint32_t events)
    {
        if (k < 0 || k >= table_.slots() || !hold_current(k))
            return -1;
        const int fd = table_.fd_of(k);
        if (events & (EPOLLHUP | EPOLLERR)) {
            ended(k);
            return -1;
        }
        if (!table_.claim(k, held_[static_cast<std::size_t>(k)], pid_))
            return -1;  // served by another worker (which re-arms it), or ended just now
        // A worker woken by a re-arm while another served the request finds nothing to read:
        // never block on an idle connection.
        char c;
        const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0)
            return fd;
        table_.release(k);
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            ended(k);
        else
            poller().rearm(fd, k);
        return -1;
    }
    // After the reply on slot k: let another worker take the next request on it.
    void release(int k) const { table_.release(k); }
    // After a request on slot k: re-armed for the next one, or forgotten when libfcgi closed it.
    void served(int k, bool open)
    {
        if (open) {
            poller().rearm(table_.fd_of(k), k);
        } else {
            held_[static_cast<std::size_t>(k)] = 0;  // libfcgi closed the fd
            if (channel_ < 0)
                table_.free(k);
        }
    }
    // Nginx closed slot k's connection: out of the epoll set for everyone (the master frees the
    // slot; without one, this worker does).
    void ended(int k)
    {
        poller().remove(table_.fd_of(k));
        drop(k);
        if (channel_ < 0)
            table_.free(k);
    }
    void drop(int k)
    {
        if (held_[static_cast<std::size_t>(k)] == 0)
            return;
        close(table_.fd_of(k));
        held_[static_cast<std::size_t>(k)] = 0;
    }

    // The master's messages (connections other workers accepted), when it has sent any since the
    // last look.
    void receive_news()
    {
        const auto sends = table_.sends();
        if (channel_ >= 0 && sends != sends_seen_) {
            sends_seen_ = sends;
            receive();
        }
    }
    // Without a wait: EOF on the channel means the master is gone.
    void check_master()
    {
        if (channel_ >= 0)
            receive();
    }

    // Drops the duplicates of connections the master has freed since the last look.
    void sweep()
    {
        const auto frees = table_.frees();
        if (frees == frees_seen_)
            return;
        frees_seen_ = frees;
        for (int k = 0; k < table_.slots(); ++k)
            if (holds(k) && !table_.current(k, held_[static_cast<std::size_t>(k)]))
                drop(k);
    }

private:
    bool holds(int k) const { return held_[static_cast<std::size_t>(k)] != 0; }
    // Makes sure this worker holds slot k's current connection, whose fd may still be on its way
    // in the channel (the master sends it before it puts the connection in the epoll set, but a
    // busy worker's channel can be full). False when the connection has ended.
    bool hold_current(int k)
    {
        for (int tries = 0; tries < 200; ++tries) {
            const std::uint32_t serial = table_.at(k).serial.load(std::memory_order_acquire);
            if (serial % 2 == 0)
                return false;
            if (held_[static_cast<std::size_t>(k)] == serial)
                return true;
            receive();
            if (held_[static_cast<std::size_t>(k)] == serial || channel_ < 0)
                continue;
            pollfd p{channel_, POLLIN, 0};
            poll(&p, 1, 10);
        }
        LOG4CPLUS_ERROR(
            lg, "no fd for kept connection " << k << " after 2 s: its requests wait for a re-arm");
        return false;
    }
    void receive()
    {
        ConnMsg kind;
        std::vector<ConnEntry> entries;
        while (recv_conns(channel_, kind, entries))
            for (const auto& e : entries) {
                const int k = static_cast<int>(e.slot);
                const bool good = kind == ConnMsg::add && e.fd >= 0 && k < table_.slots() &&
                                  table_.current(k, e.serial);
                if (good && dup3(e.fd, table_.fd_of(k), O_CLOEXEC) >= 0)
                    held_[static_cast<std::size_t>(k)] = e.serial;  // replaces an older one there
                if (e.fd >= 0)
                    close(e.fd);
            }
        if (errno == 0)
            master_gone_ = true;  // EOF: nobody respawns or watches us: leave
    }

    pid_t pid_;
    ConnTable table_;
    int channel_ = -1, ep_ = -1;
    bool master_gone_ = false;
    std::vector<std::uint32_t> held_;
    std::uint64_t frees_seen_ = 0, sends_seen_ = 0;
};

// True when the listening socket (fd 0) is TCP, not a unix socket.
bool listening_on_tcp()
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    return getsockname(0, reinterpret_cast<sockaddr*>(&a), &len) == 0 && a.ss_family != AF_UNIX;
}

// A new connection from the listening socket (non-blocking: another worker may have taken it):
// its fd, -1 when there is none now (or it came from a peer not in web_servers: closed), -2 when
// the socket is broken.
int accept_connection(bool tcp, const std::vector<std::string>& web_servers)
{
    const int fd = accept4(0, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0 && tcp && !web_servers.empty()) {
        // libfcgi's own FCGI_WEB_SERVER_ADDRS check sits in its accept, which we do not use.
        const std::string peer = peer_ip(fd);
        if (std::find(web_servers.begin(), web_servers.end(), peer) == web_servers.end()) {
            LOG4CPLUS_WARN(lg, "refused a FastCGI connection from "
                                   << (peer.empty() ? "?" : peer)
                                   << ": not in fcgi_web_server_addrs");
            close(fd);
            return -1;
        }
    }
    if (fd >= 0) {
        const int one = 1;  // no Nagle: the reply goes out whole at once
        if (tcp)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
        errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        return -1;
    return -2;
}

// Views into envp, which libfcgi frees in FCGX_Finish_r: the Request made of them must end first.
core::CgiParams read_params(FCGX_ParamArray envp)
{
    core::CgiParams params;
    params.reserve(40);  // nginx's fastcgi_params plus the request's headers
    for (; envp && *envp; ++envp) {
        const char* eq = std::strchr(*envp, '=');
        if (eq)
            params.emplace_back(std::string_view(*envp, eq - *envp), std::string_view(eq + 1));
    }
    return params;
}

// Reads the whole body (nginx buffers it, so this does not wait on a slow client). Over the cap
// the rest is still drained, so the connection stays in step, and the caller replies 413.
bool read_body(FCGX_Stream* in, const char* length_text, std::size_t cap, std::string& body)
{
    const long long length = length_text ? std::atoll(length_text) : 0;
    if (length > 0 && static_cast<std::size_t>(length) <= cap)
        body.reserve(static_cast<std::size_t>(length));
    char buf[16384];
    bool fits = true;
    int n;
    while ((n = FCGX_GetStr(buf, sizeof buf, in)) > 0) {
        if (body.size() + static_cast<std::size_t>(n) > cap)
            fits = false;
        if (fits)
            body.append(buf, static_cast<std::size_t>(n));
    }
    return fits;
}

}  // namespace

bool stop_requested()
{
    sigset_t pending;
    sigpending(&pending);
    for (int sig : kStopSignals)
        if (sigismember(&pending, sig))
            return true;
    return g_stop != 0;
}

namespace {

// Reads the request accepted on `rq`, dispatches it and replies; false when the hooks say leave.
bool serve_one(FCGX_Request& rq, const core::Dispatcher& dispatcher, std::size_t max_body_bytes,
               const WorkerHooks& hooks, const std::function<void()>& finished)
{
    // Reused from request to request, so their buffers keep their capacity.
    static core::AccessLine access;
    static std::string head;
    access.level = log4cplus::NOT_SET_LOG_LEVEL;
    {
        // The request's params point into rq.envp: it must end before FCGX_Finish_r.
        std::string body;
        const bool fits =
            read_body(rq.in, FCGX_GetParam("CONTENT_LENGTH", rq.envp), max_body_bytes, body);
        auto req = core::Request::borrowing(read_params(rq.envp), std::move(body));
        if (hooks.before_request)
            hooks.before_request(req.method(), req.path());
        const core::Reply reply =
            fits ? dispatcher.handle(req, &access)
                 : dispatcher.refuse(req, 413, "request body too large", &access);
        head.clear();
        core::append_cgi_head(reply, head);
        // A failed write means the client went away: nothing to do but finish the request (which
        // then closes the connection).
        if (FCGX_PutStr(head.data(), static_cast<int>(head.size()), rq.out) < 0 ||
            (req.method() != "HEAD" &&
             FCGX_PutStr(reply.body.data(), static_cast<int>(reply.body.size()), rq.out) < 0))
            LOG4CPLUS_WARN(lg,
                           "client gone before the reply to " << req.method() << " " << req.path());
    }
    FCGX_Finish_r(&rq);  // keeps the connection open when nginx asked for it (FCGI_KEEP_CONN)
    finished();          // another worker may take the next request on this connection now
    core::write_access_line(access);  // after the reply has gone: the client does not wait for it
    return !hooks.after_request || hooks.after_request();
}

}  // namespace

int serve_fcgi(const core::Dispatcher& dispatcher, std::size_t max_body_bytes,
               const WorkerHooks& hooks, const std::vector<std::string>& web_servers)
{
    const sigset_t waiting = install_signals();  // before FCGX_Init, so libfcgi leaves them alone
    if (FCGX_Init() != 0) {
        LOG4CPLUS_ERROR(lg, "FCGX_Init failed");
        return 1;
    }
    Connections conns;
    const Poller poller = conns.poller();
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);  // a lost race for a connection is EAGAIN
    const bool tcp = listening_on_tcp();
    // One request at a time, so one FCGX_Request; listen_sock -1: libfcgi never accepts itself.
    FCGX_Request rq;
    FCGX_InitRequest(&rq, -1, 0);
    // Reads the request waiting on `fd` into rq; false when nginx closed it or sent garbage (then
    // libfcgi has closed fd).
    auto read_request = [&](int fd) {
        rq.ipcFd = fd;
        rq.keepConnection = 1;  // so FCGX_Accept_r's opening FCGX_Finish_r keeps the fd
        if (FCGX_Accept_r(&rq) == 0)
            return true;
        FCGX_Free(&rq, 1);
        return false;
    };
    // Serves the request read, calling `finished` once the reply is out; false when the
    // connection ended with it (libfcgi closed its fd).
    bool stay = true;
    auto serve_read = [&](const std::function<void()>& finished) {
        stay = serve_one(rq, dispatcher, max_body_bytes, hooks, finished);
        const bool open = rq.ipcFd >= 0;
        rq.ipcFd = -1;
        return open;
    };
    // A connection just accepted: its first request served here. When nginx keeps the connection
    // it is shared before the request is served, so the other workers can take the next request
    // on it.
    auto serve_new = [&](int fd) {
        if (!read_request(fd))
            return;
        const int k = rq.keepConnection ? conns.share(fd) : -1;
        if (k >= 0)
            rq.ipcFd = conns.fd_of(k);
        else
            rq.keepConnection = 0;  // libfcgi closes it after the reply
        const bool open = serve_read([&] {
            if (k >= 0)
                conns.release(k);
        });
        if (k >= 0)
            conns.served(k, open);
        else if (open)
            close(fd);
    };
    int exit_code = 0;
    unsigned turns = 0;
    // A pending stop signal gets in only when epoll_pwait has to wait: a worker kept busy by ready
    // events would never see it, so it also looks every few turns.
    while (stay && !g_stop && !(++turns % 16 == 0 && stop_requested()) && !conns.master_gone()) {
        conns.receive_news();
        conns.sweep();
        const auto ev = poller.wait(waiting, 1000);  // the only place a stop signal is let in
        if (!ev) {
            conns.check_master();
            continue;
        }
        if (ev->tag == kListenTag) {
            const int fd = accept_connection(tcp, web_servers);
            if (fd == -2) {
                // The listening socket is gone: a failure, so the master's crash-loop brake
                // applies.
                LOG4CPLUS_ERROR(lg, "accept failed: " << std::strerror(errno));
                exit_code = 1;
                break;
            }
            if (fd >= 0)
                serve_new(fd);
            // A burst of new connections (nginx opening many at once) would otherwise get one
            // accept per turn of the whole ready list, behind every kept connection's request:
            // the others waiting are shared unread now, so any idle worker serves each one's
            // first request (and nginx closes those it does not keep).
            for (int more = 0; stay && more < kAcceptBurst && conns.shares(); ++more) {
                const int next = accept_connection(tcp, web_servers);
                if (next < 0)
                    break;
                if (conns.share(next, false) < 0) {
                    serve_new(next);  // no slot: served here, one request, as without sharing
                    break;
                }
            }
        } else {
            const int k = static_cast<int>(ev->tag);
            const int fd = conns.claim(k, ev->events);
            if (fd < 0)
                continue;
            if (!read_request(fd)) {
                conns.release(k);
                conns.served(k, false);
                continue;
            }
            conns.served(k, serve_read([&] { conns.release(k); }));
        }
    }
    // Leaving: the kept connections live on in the other workers and the master.
    return exit_code;
}

}  // namespace prefork
