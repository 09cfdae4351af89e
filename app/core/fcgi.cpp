// fcgi.cpp: the accept loop on libfcgi. Kept small and in one place, so that serving kept
// connections later (LIBRARIES.md 4) stays a local change.
#include "app/core/fcgi.h"

#include <fcgiapp.h>
#include <signal.h>

#include <cstring>
#include <map>
#include <string>

#include "app/core/log.h"

namespace core {
namespace {

const auto lg = logger("fcgi");
volatile sig_atomic_t g_stop = 0;

void on_stop(int)
{
    g_stop = 1;
}

void install_signals()
{
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: accept() must return EINTR so the loop sees the flag
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGQUIT, &sa, nullptr);
    // Ctrl-C in a terminal reaches the whole process group; the master decides, not the workers.
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
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
    return g_stop != 0;
}

int serve_fcgi(const Dispatcher& dispatcher, std::size_t max_body_bytes, const WorkerHooks& hooks)
{
    install_signals();  // before FCGX_Init, so libfcgi leaves our handlers alone
    if (FCGX_Init() != 0) {
        LOG4CPLUS_ERROR(lg, "FCGX_Init failed");
        return 1;
    }
    FCGX_Request rq;
    FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!g_stop) {
        if (FCGX_Accept_r(&rq) < 0)
            break;  // a signal, or the listening socket is gone
        auto params = read_params(rq.envp);
        std::string body;
        const bool fits = read_body(rq.in, params["CONTENT_LENGTH"], max_body_bytes, body);
        Request req(std::move(params), std::move(body));
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
    return 0;
}

}  // namespace core
