// server_settings.h: the keys only the server binary reads (its master and its workers); the
// supervisor's are SupervisorOptions', the recycling limits RecycleLimits'.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "app/core/settings.h"

namespace core {

struct ServerSettings {
    std::string listen;           // "unix:/path" or "host:port", when fd 0 is no listening socket
    std::size_t max_body_bytes;   // a bigger request body is refused with 413
    std::string metrics_listen;   // the master's GET /metrics: loopback only; "": off
    std::string test_crash_file;  // test mode only ("" otherwise): workers exit while it exists
    // fcgi_web_server_addrs, canonical (listen.h canonical_ip): the only peers a TCP listener
    // serves; empty: any. libfcgi's FCGI_WEB_SERVER_ADDRS does not apply: the workers accept
    // connections themselves.
    std::vector<std::string> web_servers;
    bool batch_scheduling;  // workers run under SCHED_BATCH (README "Benchmark")
    static std::vector<Key> keys();
    static ServerSettings from(const Config& c);  // ConfigError on a metrics_listen not
                                                  // local or a web server that is no address
};

}  // namespace core
