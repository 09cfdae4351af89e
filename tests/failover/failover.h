// failover.h: what the failover suite's files share: the servers of servers.sh, requests through a
// real dispatcher (so a status is what a client would get), and a tally of statuses.
#pragma once
#include <functional>
#include <map>
#include <string>

#include "app/core/config.h"
#include "app/core/dispatcher.h"

namespace failover {

// Runs `servers.sh args` (TEST_SLOT from the environment); its output, and fails the test case
// when it exits non-zero.
std::string servers(const std::string& args);

// The ports servers.sh uses: PostgreSQL, Redis master, replica, Sentinels 1-3.
struct Ports {
    int pg, master, replica, sentinel[3];
};
Ports ports();

// The process config with `changes` applied (each key's value of its type), in force until the
// object ends.
class ConfigScope {
public:
    explicit ConfigScope(const std::function<void(core::Config&)>& changes);
    ~ConfigScope();

private:
    core::Config saved_;
};

// One request through a dispatcher whose one route (any method, path /x) runs `handler`, after
// model::drop_if_closed() as a worker does between requests: the status a client would get.
int status_of(const std::function<void()>& handler, const std::string& method = "POST");

// Statuses seen, for the messages: {200: 12, 503: 3}.
std::string describe(const std::map<int, int>& statuses);

}  // namespace failover
