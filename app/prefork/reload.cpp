// reload.cpp: the handover between master images, the file watches and the --check child.
#include "app/prefork/reload.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/prefork/listen.h"
#include "app/prefork/process.h"

namespace prefork {
namespace {

const char* const kHandoverEnv = "SUPERVISOR_HANDOVER";
constexpr auto kCheckTimeout = std::chrono::seconds(30);

// "a=1;b=x" -> {a: 1, b: x}
std::map<std::string, std::string> parse_pairs(const std::string& text)
{
    std::map<std::string, std::string> out;
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ';');) {
        const auto eq = item.find('=');
        if (eq != std::string::npos)
            out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
}

std::int64_t number(const std::map<std::string, std::string>& m, const char* key)
{
    auto it = m.find(key);
    return it == m.end() ? 0 : std::atoll(it->second.c_str());
}

std::string encode(const Handover& h)
{
    const auto& c = h.counters;
    std::ostringstream out;
    out << "listen=" << h.listen_fd << ";started=" << c.started << ";reloads=" << c.reloads
        << ";respawns=" << c.respawns << ";harakiri=" << c.harakiri << ";deaths=" << c.deaths
        << ";retired=" << c.retired << ";requests=" << c.requests_done
        << ";reloads_started=" << c.reloads_started << ";reloads_done=" << c.reloads_done
        << ";reloads_failed=" << c.reloads_failed << ";pending=" << h.reload_pending
        << ";board_fd=" << h.board_fd << ";board_slots=" << h.board_slots
        << ";metrics_fd=" << h.metrics_fd << ";program=" << h.program_stamp
        << ";reload=" << h.reload_stamp << ";conns=" << h.conn_table_fd
        << ";conn_poll=" << h.conn_poll_fd << ";channels=";
    for (const auto& [pid, fd] : h.channels)
        out << pid << ":" << fd << ",";
    out << ";workers=";
    for (const auto& [id, pid] : h.workers)
        out << id << ":" << pid << ",";
    return out.str();
}

// Calls f(a, b) for each "a:b," in m[key].
template <typename F>
void for_pairs(const std::map<std::string, std::string>& m, const char* key, F f)
{
    std::stringstream ws(m.count(key) ? m.at(key) : "");
    for (std::string item; std::getline(ws, item, ',');) {
        const auto colon = item.find(':');
        if (colon != std::string::npos)
            f(std::atoi(item.c_str()), std::atoi(item.c_str() + colon + 1));
    }
}

Handover decode(const std::string& text)
{
    const auto m = parse_pairs(text);
    Handover h;
    h.listen_fd = static_cast<int>(number(m, "listen"));
    auto& c = h.counters;
    c.started = number(m, "started");
    c.reloads = number(m, "reloads");
    c.respawns = number(m, "respawns");
    c.harakiri = number(m, "harakiri");
    c.deaths = number(m, "deaths");
    c.retired = number(m, "retired");
    c.requests_done = number(m, "requests");
    c.reloads_started = number(m, "reloads_started");
    c.reloads_done = number(m, "reloads_done");
    c.reloads_failed = number(m, "reloads_failed");
    h.reload_pending = number(m, "pending") != 0;
    h.board_fd = static_cast<int>(number(m, "board_fd"));
    h.board_slots = static_cast<int>(number(m, "board_slots"));
    h.metrics_fd = m.count("metrics_fd") ? static_cast<int>(number(m, "metrics_fd")) : -1;
    h.program_stamp = m.count("program") ? m.at("program") : "";
    h.reload_stamp = m.count("reload") ? m.at("reload") : "";
    h.conn_table_fd = m.count("conns") ? static_cast<int>(number(m, "conns")) : -1;
    h.conn_poll_fd = m.count("conn_poll") ? static_cast<int>(number(m, "conn_poll")) : -1;
    for_pairs(m, "workers", [&](int a, int b) { h.workers.emplace_back(a, b); });
    for_pairs(m, "channels", [&](int a, int b) { h.channels[a] = b; });
    return h;
}

}  // namespace

std::optional<Handover> take_handover()
{
    const char* env = std::getenv(kHandoverEnv);
    if (!env)
        return std::nullopt;
    Handover h = decode(env);
    unsetenv(kHandoverEnv);
    return h;
}

int inherited_listen_fd()
{
    const char* env = std::getenv(kHandoverEnv);
    if (!env)
        return -1;
    const int fd = decode(env).listen_fd;
    return fd >= 0 && is_listening_socket(fd) ? fd : -1;
}

void reexec(const std::string& program, const std::vector<std::string>& args, const Handover& h)
{
    // The new image gets the handed-over descriptors and nothing else of this one (log4cplus
    // opens the log and its lock file without close-on-exec: each reload would leak both).
    cloexec_from(3);
    std::vector<int> fds{h.listen_fd, h.board_fd, h.metrics_fd};
    fds.insert(fds.end(), h.keep_fds.begin(), h.keep_fds.end());
    std::vector<int> flags;
    for (int fd : fds) {
        flags.push_back(fd >= 0 ? fcntl(fd, F_GETFD) : 0);
        if (fd >= 0)
            fcntl(fd, F_SETFD, 0);
    }
    setenv(kHandoverEnv, encode(h).c_str(), 1);
    exec_program(program, args);
    const int saved = errno;
    unsetenv(kHandoverEnv);
    for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFD, flags[i]);
    errno = saved;
}

FileWatch::FileWatch(std::string path, bool settle, std::string baseline)
    : path_(std::move(path)), seen_(std::move(baseline)), settle_(settle)
{
}

bool FileWatch::changed()
{
    if (path_.empty())
        return false;
    const std::string now = file_stamp(path_);
    if (now == seen_ || now.empty()) {  // a missing file is no reason to reload
        pending_.clear();
        return false;
    }
    if (settle_ && now != pending_) {
        pending_ = now;  // look again next tick
        return false;
    }
    seen_ = now;
    pending_.clear();
    return true;
}

ReloadCheck::ReloadCheck(const std::string& log_name, std::function<void()> on_passed,
                         std::function<void(const std::string&)> on_failed)
    : lg_(core::logger(log_name)), on_passed_(std::move(on_passed)),
      on_failed_(std::move(on_failed))
{
}

void ReloadCheck::start(const std::string& why, const std::string& program,
                        const std::vector<std::string>& args, const sigset_t& mask)
{
    LOG4CPLUS_INFO(lg_, "reload (" << why << "): checking " << program << " --check");
    program_ = program;
    args_ = args;
    mask_ = mask;
    stamp_ = file_stamp(program);
    deadline_ = std::chrono::steady_clock::now() + kCheckTimeout;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0) {
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--check");
        pid_ = spawn_process(program, argv, {{pipe_fds[1], 1}, {pipe_fds[1], 2}}, mask);
        const int spawn_errno = errno;
        close(pipe_fds[1]);
        out_ = pipe_fds[0];
        if (pid_ > 0)
            return;
        pid_ = 0;
        close(out_);
        out_ = -1;
        errno = spawn_errno;
    }
    on_failed_(std::string("cannot run the check: ") + std::strerror(errno));
}

void ReloadCheck::finish(int status, bool stopping)
{
    std::string output;
    char buf[2048];
    ssize_t n;
    while (output.size() < 2000 && (n = read(out_, buf, sizeof buf)) > 0)
        output.append(buf, static_cast<std::size_t>(n));
    close(out_);
    out_ = -1;
    pid_ = 0;
    if (stopping)
        return;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' '))
        output.pop_back();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        on_failed_(program_ + " --check failed (" + describe_status(status) +
                   (output.empty() ? "" : ": " + output) + ")");
    else if (file_stamp(program_) != stamp_)
        start("the binary changed during the check", program_, args_, mask_);
    else
        on_passed_();
}

bool ReloadCheck::expire(std::chrono::steady_clock::time_point now)
{
    if (!running() || now < deadline_)
        return false;
    cancel();
    deadline_ = now + kCheckTimeout;
    return true;
}

void ReloadCheck::cancel()
{
    if (running())
        kill(pid_, SIGKILL);
}

int server_socket(const std::string& spec)
{
    const int handed_over = inherited_listen_fd();
    if (handed_over >= 0)
        return handed_over;
    if (is_listening_socket(0))
        return 0;
    if (spec.empty())
        throw core::ConfigError(
            "no listening socket on fd 0 (spawn-fcgi) and no 'listen' in the config");
    return listen_on(spec);
}

}  // namespace prefork
