// fcgi.cpp: the accept loop on libfcgi. Kept small and in one place, so that serving kept
// connections later (LIBRARIES.md 4) stays a local change.
#include "app/core/fcgi.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

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

// Waits until the listening socket (fd 0, non-blocking) has a connection or a stop signal
// arrives. EPOLLEXCLUSIVE wakes one idle worker per connection instead of all of them.
class ConnectionWait {
public:
    ConnectionWait() : ep_(epoll_create1(EPOLL_CLOEXEC))
    {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        if (ep_ < 0 || epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) < 0)
            throw std::runtime_error(std::string("epoll on the listening socket: ") + std::strerror(errno));
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);  // a lost race for a connection is EAGAIN
    }
    ~ConnectionWait() { close(ep_); }
    void wait(const sigset_t& mask) const
    {
        epoll_event ev;
        epoll_pwait(ep_, &ev, 1, -1, &mask);
    }

private:
    int ep_;
};

bool is_retry(int accept_rc)
{
    return accept_rc == -EAGAIN || accept_rc == -EWOULDBLOCK || accept_rc == -EINTR;
}

std::map<std::string, std::string> read_params(FCGX_ParamArray envp)
{
    std::map<std::string, std::string> params;
    for (; envp && *envp; ++envp) {
        const char* eq = std::strchr(*envp, '=');
        if (eq)
            params.emplace(std::string(*envp, eq - *envp), std::string(eq + 1));
    }
    return params;
}

// Reads the whole body (nginx buffers it, so this does not wait on a slow client). Over the cap
// the rest is still drained, so the connection stays in step, and the caller replies 413.
bool read_body(FCGX_Stream* in, const std::string& length_text, std::size_t cap, std::string& body)
{
    const long long length = length_text.empty() ? 0 : std::atoll(length_text.c_str());
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

int serve_fcgi(const Dispatcher& dispatcher, std::size_t max_body_bytes, const WorkerHooks& hooks)
{
    const sigset_t waiting = install_signals();  // before FCGX_Init, so libfcgi leaves them alone
    if (FCGX_Init() != 0) {
        LOG4CPLUS_ERROR(lg, "FCGX_Init failed");
        return 1;
    }
    FCGX_Request rq;
    FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    const ConnectionWait connection;
    int exit_code = 0;
    while (!g_stop) {
        connection.wait(waiting);  // the only place a stop signal is let in
        if (g_stop)
            break;
        const int rc = FCGX_Accept_r(&rq);
        if (is_retry(rc))
            continue;  // another worker took the connection
        if (rc < 0) {
            // The listening socket is gone: a failure, so the master's crash-loop brake applies.
            LOG4CPLUS_ERROR(lg, "accept failed: " << std::strerror(-rc));
            exit_code = 1;
            break;
        }
        auto params = read_params(rq.envp);
        std::string body;
        const bool fits = read_body(rq.in, params["CONTENT_LENGTH"], max_body_bytes, body);
        Request req(std::move(params), std::move(body));
        if (hooks.before_request)
            hooks.before_request(req.method(), req.path());
        Reply reply = fits ? dispatcher.handle(req) : error_reply(413, "request body too large");
        const std::string out = to_cgi(reply, req.method() != "HEAD");
        // A failed write means the client went away: nothing to do but finish the request.
        if (FCGX_PutStr(out.data(), static_cast<int>(out.size()), rq.out) < 0)
            LOG4CPLUS_WARN(lg, "client gone before the reply to " << req.method() << " " << req.path());
        FCGX_Finish_r(&rq);
        if (hooks.after_request && !hooks.after_request())
            break;
    }
    FCGX_Free(&rq, 1);
    return exit_code;
}

}  // namespace core
