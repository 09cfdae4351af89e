// reload_client.cpp: `server --reload PID` (and `spooler --reload PID`), the command systemd's
// ExecReload runs, so `systemctl reload` waits for the reload and fails when it was aborted. The
// master counts reloads started, done and failed (stats.h); a SIGHUP starts one more, or queues
// one behind a reload in progress, so the reload this command asked for is over once done + failed
// passes the number started before the signal; the last error, cleared by a reload done, tells
// how it ended.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include <rapidjson/document.h>

#include "app/prefork/stats.h"

namespace prefork {
namespace {

struct ReloadView {
    std::int64_t pid = 0, started = 0, done = 0, failed = 0, reloads = 0, workers = 0;
    std::string error, build;
};

std::int64_t num(const rapidjson::Document& d, const char* key)
{
    auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

std::string text(const rapidjson::Document& d, const char* key)
{
    auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// nullopt while the master cannot answer (it is between two images during a reload).
std::optional<ReloadView> read_view(const std::string& spec)
{
    std::string json;
    try {
        json = fetch_stats(spec);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    rapidjson::Document d;
    d.Parse(json.c_str());
    if (d.HasParseError() || !d.IsObject() || num(d, "reloads_started") < 0)
        return std::nullopt;
    ReloadView v{num(d, "pid"),
                 num(d, "reloads_started"),
                 num(d, "reloads_done"),
                 num(d, "reloads_failed"),
                 num(d, "reloads"),
                 0,
                 text(d, "last_reload_error"),
                 text(d, "build")};
    if (d.HasMember("workers") && d["workers"].IsArray())
        for (const auto& w : d["workers"].GetArray())  // the new generation's
            v.workers += w.IsObject() && w.HasMember("retiring") && w["retiring"].IsFalse();
    return v;
}

}  // namespace

int reload_and_wait(const std::string& program, const std::string& spec, const std::string& pid,
                    int max_seconds)
{
    const auto fail = [&](const std::string& why) {
        std::cerr << program << ": reload " << why << std::endl;
        return 1;
    };
    if (spec.empty())
        return fail(
            "needs the master's stats socket to follow the reload, and stats_listen is off "
            "in the config (set it, or send SIGHUP without waiting: kill -HUP " +
            pid + ")");
    char* end = nullptr;
    const long master = std::strtol(pid.c_str(), &end, 10);
    if (pid.empty() || *end || master <= 1)
        return fail("needs the master's pid, got '" + pid + "'");
    const auto before = read_view(spec);
    if (!before)
        return fail("cannot read the master's stats at " + spec);
    if (before->pid != master)
        return fail("the master at " + spec + " has pid " + std::to_string(before->pid) + ", not " +
                    pid);
    if (kill(static_cast<pid_t>(master), SIGHUP) != 0)
        return fail("cannot signal pid " + pid);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (kill(static_cast<pid_t>(master), 0) != 0)
            return fail("failed: the master (pid " + pid + ") is gone");
        const auto now = read_view(spec);
        if (!now || now->done + now->failed <= before->started)
            continue;
        if (!now->error.empty())  // set by an aborted reload, cleared by a done one
            return fail("aborted, the old workers keep serving: " + now->error);
        std::cout << program << ": reload " << now->reloads << " done: build " << now->build << ", "
                  << now->workers << " workers" << std::endl;
        return 0;
    }
    return fail("gave no result within " + std::to_string(max_seconds) + " s");
}

}  // namespace prefork
