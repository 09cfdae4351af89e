// stats.cpp: the stats JSON and its socket. The master writes each snapshot with one
// non-blocking send (a few KB fit any socket buffer); a client too slow for that gets less.
#include "app/prefork/stats.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include "app/core/build_id.h"
#include "app/prefork/release.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/prefork/listen.h"

namespace prefork {
namespace {

void member(core::JsonWriter& w, const char* key, std::int64_t value)
{
    w.Key(key);
    w.Int64(value);
}

void member(core::JsonWriter& w, const char* key, const std::string& value)
{
    w.Key(key);
    w.String(value);
}

void write_worker(core::JsonWriter& w, const WorkerStats& ws)
{
    w.StartObject();
    member(w, "id", ws.id);
    member(w, "pid", ws.pid);
    member(w, "state", ws.state);
    member(w, "requests", ws.requests);
    member(w, "request", ws.request);  // "GET /path" while busy
    member(w, "request_ms", ws.request_ms);
    member(w, "rss_kb", ws.rss_kb);
    member(w, "age_s", ws.age_s);
    member(w, "respawn_in_ms", ws.respawn_in_ms);
    w.Key("retiring");
    w.Bool(ws.retiring);
    w.EndObject();
}

}  // namespace

std::string stats_json(const StatsSnapshot& s)
{
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    const auto& c = s.counters;
    std::int64_t requests = c.requests_done, busy = 0, idle = 0;
    for (const auto& ws : s.workers) {
        requests += ws.requests;
        busy += ws.state == "busy";
        idle += ws.state == "idle";
    }
    w.StartObject();
    member(w, "name", s.name);
    member(w, "build_id", s.build_id);
    member(w, "build", core::build_id());
    member(w, "release", release_id());
    member(w, "deployed_by", release_record("by"));
    const std::pair<const char*, std::int64_t> numbers[] = {
        {"pid", s.pid},
        {"started", c.started},
        {"uptime_s", std::time(nullptr) - c.started},
        {"reloads", c.reloads},
        {"respawns", c.respawns},
        {"harakiri", c.harakiri},
        {"deaths", c.deaths},
        {"retired", c.retired},
        {"requests", requests},
        {"busy", busy},
        {"idle", idle},
        {"reloads_started", c.reloads_started},
        {"reloads_done", c.reloads_done},
        {"reloads_failed", c.reloads_failed},
        {"kept_connections", s.kept_connections}};
    for (const auto& [key, value] : numbers)
        member(w, key, value);
    member(w, "last_reload_error", s.last_reload_error);
    w.Key("workers");
    w.StartArray();
    for (const auto& ws : s.workers)
        write_worker(w, ws);
    w.EndArray();
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

void require_local(const char* key, const std::string& spec)
{
    if (!spec.empty() && !is_local_address(spec))
        throw core::ConfigError(std::string(key) + " " + spec +
                                ": must be a unix socket or a loopback address (127.0.0.1:port)");
}

StatsServer::StatsServer(const std::string& spec, const char* key)
{
    if (spec.empty())
        return;
    require_local(key, spec);
    fd_ = listen_on(spec, 0660);
    fcntl(fd_, F_SETFL, O_NONBLOCK);
    unix_path_ = unix_socket_path(spec);
}

StatsServer::~StatsServer()
{
    if (fd_ >= 0)
        close(fd_);
    if (!unix_path_.empty())
        unlink(unix_path_.c_str());  // not on a reload: exec runs no destructors
}

void StatsServer::serve(const std::function<std::string()>& snapshot) const
{
    int client;
    while ((client = accept_client()) >= 0) {
        const std::string body = snapshot();
        (void)!send(client, body.data(), body.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(client, SHUT_WR);
        close(client);
    }
}

int StatsServer::accept_client() const
{
    return fd_ < 0 ? -1 : accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int print_stats(const std::string& spec)
{
    if (spec.empty()) {
        std::cerr << "stats: stats_listen is off in the config" << std::endl;
        return 1;
    }
    const std::string out = fetch_stats(spec);
    std::cout << out << std::flush;
    return out.empty() ? 1 : 0;
}

std::string fetch_stats(const std::string& spec)
{
    const int fd = connect_to(spec);
    std::string out;
    char buf[8192];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, 5000) > 0) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return out;
}

}  // namespace prefork
