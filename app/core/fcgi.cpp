// fcgi.cpp: the accept loop on libfcgi, with kept connections (LIBRARIES.md 4): a worker holds
// up to kMaxConnections open connections from nginx, polls them with the listening socket and
// serves one request at a time. Only nginx closes a kept connection (after its keepalive_timeout
// or keepalive_requests): a worker told to stop accepts no more and leaves once nginx has closed
// them all. A retiring one (max requests, memory) closes them at once and leaves.
#include "app/core/fcgi.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/core/log.h"

namespace core {
namespace {

const auto lg = logger("fcgi");
volatile sig_atomic_t g_stop = 0;
const int kStopSignals[] = {SIGTERM, SIGUSR1, SIGQUIT};

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

constexpr int kMaxConnections = 32;       // kept connections per worker (nginx/local.conf.in)
constexpr std::uint32_t kListening = ~0u;  // the epoll tag of the listening socket

// One epoll set for the listening socket (fd 0, non-blocking) and every kept connection; an
// event's tag is a connection's index, or kListening. EPOLLEXCLUSIVE on fd 0 wakes one idle
// worker per new connection instead of all of them.
class Poller {
public:
    Poller() : ep_(epoll_create1(EPOLL_CLOEXEC))
    {
        if (ep_ < 0 || !add(0, kListening, EPOLLEXCLUSIVE))
            throw std::runtime_error(std::string("epoll on the listening socket: ") + std::strerror(errno));
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);  // a lost race for a connection is EAGAIN
    }
    ~Poller() { close(ep_); }
    bool add(int fd, std::uint32_t tag, std::uint32_t extra = 0) const
    {
        epoll_event ev{};
        ev.events = EPOLLIN | extra;
        ev.data.u32 = tag;
        return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
    }
    void remove(int fd) const { epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }
    // One ready tag, or nothing (a signal). One event per wait: level-triggered epoll puts a
    // still-ready fd back at the end of its ready list, so kept connections take turns.
    std::optional<std::uint32_t> wait(const sigset_t& mask) const
    {
        epoll_event ev;
        if (epoll_pwait(ep_, &ev, 1, -1, &mask) != 1)
            return std::nullopt;
        return std::uint32_t{ev.data.u32};
    }

private:
    int ep_;
};

// True when the peer closed the connection (or it failed): nothing more will come on it.
bool at_eof(int fd)
{
    char c;
    const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

bool is_retry(int accept_rc)
{
    return accept_rc == -EAGAIN || accept_rc == -EWOULDBLOCK || accept_rc == -EINTR;
}

// Views into envp, which libfcgi frees in FCGX_Finish_r: the Request made of them must end first.
CgiParams read_params(FCGX_ParamArray envp)
{
    CgiParams params;
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
bool serve_one(FCGX_Request& rq, const Dispatcher& dispatcher, std::size_t max_body_bytes, const WorkerHooks& hooks)
{
    // Reused from request to request, so their buffers keep their capacity.
    static AccessLine access;
    static std::string head;
    access.level = log4cplus::NOT_SET_LOG_LEVEL;
    {
        // The request's params point into rq.envp: it must end before FCGX_Finish_r.
        std::string body;
        const bool fits =
            read_body(rq.in, FCGX_GetParam("CONTENT_LENGTH", rq.envp), max_body_bytes, body);
        auto req = Request::borrowing(read_params(rq.envp), std::move(body));
        if (hooks.before_request)
            hooks.before_request(req.method(), req.path());
        const Reply reply = fits ? dispatcher.handle(req, &access)
                                 : dispatcher.refuse(req, 413, "request body too large", &access);
        head.clear();
        append_cgi_head(reply, head);
        // A failed write means the client went away: nothing to do but finish the request (which
        // then closes the connection).
        if (FCGX_PutStr(head.data(), static_cast<int>(head.size()), rq.out) < 0 ||
            (req.method() != "HEAD" &&
             FCGX_PutStr(reply.body.data(), static_cast<int>(reply.body.size()), rq.out) < 0))
            LOG4CPLUS_WARN(lg, "client gone before the reply to " << req.method() << " " << req.path());
    }
    FCGX_Finish_r(&rq);  // keeps the connection open when nginx asked for it (FCGI_KEEP_CONN)
    write_access_line(access);  // after the reply has gone: the client does not wait for it
    return !hooks.after_request || hooks.after_request();
}

}  // namespace

int serve_fcgi(const Dispatcher& dispatcher, std::size_t max_body_bytes, const WorkerHooks& hooks)
{
    const sigset_t waiting = install_signals();  // before FCGX_Init, so libfcgi leaves them alone
    if (FCGX_Init() != 0) {
        LOG4CPLUS_ERROR(lg, "FCGX_Init failed");
        return 1;
    }
    // One FCGX_Request per open connection; fds[i] is the fd registered in the poller for
    // rqs[i], -1 when the slot is free. libfcgi reads the next request from rq.ipcFd while it
    // is open (the previous one ended with FCGX_Finish_r on a kept connection).
    std::vector<FCGX_Request> rqs(kMaxConnections);
    std::vector<int> fds(kMaxConnections, -1);
    for (auto& rq : rqs)
        FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    const Poller poller;
    int open = 0, exit_code = 0;
    bool listening = true;
    // Stopping (stop, reload): no new connections, but the kept ones are served until nginx
    // closes them (keepalive_timeout when idle, keepalive_requests under load), so no request
    // sent on one is lost. (Closing one right after a reply is not safe: nginx may already have
    // sent the next request on it, and it never retries a POST.)
    bool full = false;  // at kMaxConnections: fd 0 is out of the epoll set meanwhile
    auto stop_listening = [&] {
        if (!listening)
            return;
        listening = false;
        if (!full)
            poller.remove(0);
    };
    // After an accept or a request on slot i: keep the poller in step with the connection.
    auto track = [&](std::size_t i) {
        const int fd = rqs[i].ipcFd;
        if (fd == fds[i])
            return;
        if (fds[i] >= 0)
            --open;  // closed by libfcgi, which also took it out of the epoll set
        fds[i] = -1;
        if (fd >= 0) {
            if (poller.add(fd, static_cast<std::uint32_t>(i))) {
                fds[i] = fd;
                ++open;
            } else {
                FCGX_Free(&rqs[i], 1);
            }
        }
    };
    auto release = [&](std::size_t i) {  // closes slot i's connection (or nginx did)
        poller.remove(fds[i]);
        FCGX_Free(&rqs[i], 1);
        fds[i] = -1;
        --open;
    };
    for (;;) {
        if (g_stop)
            stop_listening();
        if (full && listening && open < kMaxConnections) {
            poller.add(0, kListening, EPOLLEXCLUSIVE);
            full = false;
        }
        if (!listening && open == 0)
            break;
        const auto tag = poller.wait(waiting);  // the only place a stop signal is let in
        if (!tag)
            continue;
        std::size_t i = 0;
        if (*tag == kListening) {
            if (!listening)
                continue;
            while (i < rqs.size() && fds[i] >= 0)
                ++i;
            if (i == rqs.size()) {
                // At the cap: another worker takes the connection; fd 0 leaves the epoll set
                // until a slot is free again (else level-triggered epoll would spin on it).
                poller.remove(0);
                full = true;
                continue;
            }
            rqs[i].listen_sock = 0;
            const int rc = FCGX_Accept_r(&rqs[i]);
            track(i);
            if (is_retry(rc))
                continue;  // another worker took the connection
            if (rc < 0) {
                // The listening socket is gone: a failure, so the master's crash-loop brake applies.
                LOG4CPLUS_ERROR(lg, "accept failed: " << std::strerror(-rc));
                exit_code = 1;
                stop_listening();
                continue;
            }
        } else {
            i = *tag;
            if (i >= rqs.size() || fds[i] < 0)
                continue;
            if (at_eof(fds[i])) {
                release(i);
                continue;
            }
            // The next request on this connection. On a broken one libfcgi closes it and
            // accepts on listen_sock: -1 makes that fail, so a slot never changes connection.
            rqs[i].listen_sock = -1;
            const int rc = FCGX_Accept_r(&rqs[i]);
            track(i);
            if (rc < 0)
                continue;  // a broken connection: libfcgi closed it
        }
        const bool stay = serve_one(rqs[i], dispatcher, max_body_bytes, hooks);
        track(i);
        if (!stay) {
            // Retiring (max requests, memory): leave now, as the master expects, closing the
            // kept connections. nginx drops an idle one as soon as it sees it closed, and
            // retries a request it sent on one just then (within fastcgi_next_upstream_timeout;
            // not a POST).
            stop_listening();
            for (std::size_t k = 0; k < rqs.size(); ++k)
                if (fds[k] >= 0)
                    release(k);
            break;
        }
    }
    for (std::size_t i = 0; i < rqs.size(); ++i)
        FCGX_Free(&rqs[i], fds[i] >= 0);
    return exit_code;
}

}  // namespace core
