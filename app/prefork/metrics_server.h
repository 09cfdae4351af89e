// metrics_server.h: GET /metrics over plain HTTP/1.0 on a loopback address, served from the
// master's poll loop. Every socket is non-blocking and every client has a deadline, so a slow or
// silent client costs the loop nothing but a few syscalls and is dropped after two seconds.
#pragma once
#include <poll.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "app/prefork/stats.h"

namespace prefork {

class MetricsServer {
public:
    explicit MetricsServer(const std::string& spec);  // metrics_listen; throws ConfigError
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // The fds to wake the loop for: the listener (unless at the client cap) and each client.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // Accepts, reads, answers and drops what it can without waiting; `text` makes the body.
    void serve(const std::function<std::string()>& text);

private:
    struct Client {
        int fd;
        std::string in, out;
        std::size_t sent = 0;
        std::chrono::steady_clock::time_point deadline;
    };
    bool step(Client& c, const std::function<std::string()>& text);  // false: done with it

    StatsServer listener_;
    std::vector<Client> clients_;
};

// The reply to one request head ("GET /metrics HTTP/1.1\r\n..."): 200 with `text()` for GET or
// HEAD of /metrics, else 404. A plain function, so a unit test can call it.
std::string metrics_reply(const std::string& head, const std::function<std::string()>& text);

}  // namespace prefork
