// metrics_server.cpp: the little HTTP server. It reads the request head (at most 8 KB), answers
// with Content-Length and closes; nothing else of HTTP (no keep-alive, no body) is needed by
// Prometheus or by nginx's proxy_pass.
#include "app/prefork/metrics_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace prefork {
namespace {

constexpr std::size_t kMaxHead = 8192;
constexpr std::size_t kMaxClients = 16;
constexpr auto kClientTime = std::chrono::seconds(2);

bool would_block()
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

std::string http_reply(const char* status, const char* type, const std::string& body, bool head)
{
    return std::string("HTTP/1.0 ") + status + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           (head ? "" : body);
}

}  // namespace

std::string metrics_reply(const std::string& head, const std::function<std::string()>& text)
{
    const std::string line = head.substr(0, head.find_first_of("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? sp1 : sp1 + 1);
    const std::string method = line.substr(0, sp1);
    std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));  // Prometheus may add parameters
    if ((method == "GET" || method == "HEAD") && target == "/metrics")
        return http_reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", text(),
                          method == "HEAD");
    return http_reply("404 Not Found", "text/plain; charset=utf-8",
                      "not found: only GET /metrics\n", method == "HEAD");
}

MetricsServer::MetricsServer(const std::string& spec) : listener_(spec, "metrics_listen")
{
}

MetricsServer::~MetricsServer()
{
    for (const auto& c : clients_)
        close(c.fd);
}

void MetricsServer::add_poll_fds(std::vector<pollfd>& fds) const
{
    if (listener_.fd() >= 0 && clients_.size() < kMaxClients)
        fds.push_back({listener_.fd(), POLLIN, 0});
    for (const auto& c : clients_)
        fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
}

void MetricsServer::serve(const std::function<std::string()>& text)
{
    int fd;
    while (clients_.size() < kMaxClients && (fd = listener_.accept_client()) >= 0)
        clients_.push_back({fd, {}, {}, 0, std::chrono::steady_clock::now() + kClientTime});
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                  [&](Client& c) {
                                      if (step(c, text))
                                          return false;
                                      close(c.fd);
                                      return true;
                                  }),
                   clients_.end());
}

bool MetricsServer::step(Client& c, const std::function<std::string()>& text)
{
    if (std::chrono::steady_clock::now() > c.deadline)
        return false;
    if (c.out.empty()) {
        char buf[2048];
        ssize_t n = -1;
        while (c.in.size() < kMaxHead && (n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT)) != 0) {
            if (n < 0) {
                if (!would_block())
                    return false;
                break;
            }
            c.in.append(buf, static_cast<std::size_t>(n));
        }
        const bool eof = n == 0;
        // The whole head, so no unread request bytes turn our close into a reset.
        const bool whole =
            c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos;
        if (!whole && !(eof && c.in.find('\n') != std::string::npos))
            return !eof && c.in.size() < kMaxHead;
        c.out = metrics_reply(c.in, text);
    }
    while (c.sent < c.out.size()) {
        const ssize_t n =
            send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
            return would_block();
        c.sent += static_cast<std::size_t>(n);
    }
    shutdown(c.fd, SHUT_WR);
    return false;
}

}  // namespace prefork
