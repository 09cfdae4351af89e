// instance.cpp: starting, watching and stopping the tests' own server instances.
#include "tests/api/instance.h"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/api/http.h"

namespace fs = std::filesystem;

namespace test {

std::int64_t Stats::num(const char* key) const
{
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

std::string Stats::str(const char* key) const
{
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::vector<pid_t> Stats::pids(bool retiring) const
{
    std::vector<pid_t> out;
    for (const auto& w : workers().GetArray())
        if (w["pid"].GetInt() > 0 && w["retiring"].GetBool() == retiring)
            out.push_back(w["pid"].GetInt());
    return out;
}

const rapidjson::Value* Stats::busy_with(const std::string& request) const
{
    for (const auto& w : workers().GetArray())
        if (std::string(w["state"].GetString()) == "busy" && w["request"].GetString() == request)
            return &w;
    return nullptr;
}

Stats parse_stats(const std::string& json)
{
    Stats s;
    s.doc.Parse(json.c_str());
    s.ok = !s.doc.HasParseError() && s.doc.IsObject() && s.doc.HasMember("workers") &&
           s.doc["workers"].IsArray();
    if (!s.ok)
        s.doc.SetObject().AddMember("workers", rapidjson::Value(rapidjson::kArrayType),
                                    s.doc.GetAllocator());
    return s;
}

std::string stack_run_dir()
{
    const std::string pid_file = env_or("SERVER_PID_FILE", "");
    if (pid_file.empty())
        throw std::runtime_error("SERVER_PID_FILE is not set: run through deploy/local.sh test");
    return fs::path(pid_file).parent_path().string();
}

std::set<pid_t> children_of(pid_t parent)
{
    std::set<pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const std::string line = read_text((e.path() / "stat").string());
        const auto close = line.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 2));
        char state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && state != 'Z')
            out.insert(std::stoi(name));
    }
    return out;
}

std::string crash_file(const std::string& name)
{
    return stack_run_dir() + "/instance/" + name;
}

std::unique_ptr<Instance> crash_looping(const std::string& name)
{
    const std::string crash = crash_file(name);
    fs::remove(crash);
    auto inst = std::make_unique<Instance>(
        name,
        std::map<std::string, std::string>{{"APP_WORKERS", "1"}, {"APP_TEST_CRASH_FILE", crash}});
    std::ofstream(crash) << "workers die at start while this file exists\n";
    BOOST_REQUIRE(kill(inst->stats().pids().at(0), SIGKILL) == 0);
    return inst;
}

int status_of(const std::string& path)
{
    try {
        return get(path).status;
    } catch (const std::exception&) {
        return 0;
    }
}

std::future<int> in_background(const std::string& path)
{
    return std::async(std::launch::async, [path] { return status_of(path); });
}

long successes(const std::string& path, int threads, int each)
{
    std::vector<std::future<long>> runs;
    for (int t = 0; t < threads; ++t)
        runs.push_back(std::async(std::launch::async, [&path, each] {
            long ok = 0;
            for (int i = 0; i < each; ++i)
                ok += status_of(path) == 200;
            return ok;
        }));
    long ok = 0;
    for (auto& r : runs)
        ok += r.get();
    return ok;
}

std::pair<int, pid_t> busy_worker(const Instance& inst, const std::string& request)
{
    std::pair<int, pid_t> found{0, 0};
    poll_until(
        [&] {
            const auto s = inst.stats();
            if (const auto* w = s.busy_with(request))
                found = {(*w)["id"].GetInt(), (*w)["pid"].GetInt()};
            return found.second > 0;
        },
        5);
    BOOST_REQUIRE_MESSAGE(found.second > 0, "no worker busy with " << request);
    return found;
}

bool all_idle(const Instance& inst, int workers)
{
    const auto s = inst.stats();
    return s.num("idle") == workers && s.pids().size() == static_cast<std::size_t>(workers);
}

// /proc/net/unix lists an accepted socket under its listening socket's path; state 03 is
// connected.
std::set<std::string> instance_connections()
{
    const std::string sock = stack_run_dir() + "/instance.sock";
    std::ifstream in("/proc/net/unix");
    std::set<std::string> inodes;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string num, refs, proto, flags, type, st, inode, path;
        if (f >> num >> refs >> proto >> flags >> type >> st >> inode >> path && path == sock &&
            st == "03")
            inodes.insert(inode);
    }
    return inodes;
}

long occurrences(const std::string& text, const std::string& what)
{
    long n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

Instance::Instance(const std::string& name, std::map<std::string, std::string> env)
{
    run_ = stack_run_dir();
    const std::string dir = run_ + "/instance";
    fs::create_directories(dir);
    binary_ = dir + "/server";
    reload_file_ = dir + "/RESTART";
    log_file_ = fs::path(run_).parent_path().string() + "/log/instance-" + name + ".log";
    fs::remove(log_file_);
    std::ofstream(reload_file_)
        << "touch me to reload\n";  // there from the start, as in a deployment
    replace_binary(read_text(SERVER_BINARY));
    if (!env.count("APP_LISTEN"))
        env["APP_LISTEN"] = "unix:" + run_ + "/instance.sock";  // nginx's /testinstance/
    if (!env.count("APP_STATS_LISTEN"))
        env["APP_STATS_LISTEN"] = "unix:" + run_ + "/instance-stats.sock";
    stats_listen_ = env["APP_STATS_LISTEN"];
    if (!env.count("APP_METRICS_LISTEN"))
        env["APP_METRICS_LISTEN"] = "";  // the stack's server has the stack's port
    env["APP_LOG_FILE"] = log_file_;
    if (!env.count("APP_RELOAD_FILE"))
        env["APP_RELOAD_FILE"] = reload_file_;
    env_ = environment_with(env);

    std::vector<char*> envp, argv{binary_.data(), nullptr};
    for (auto& e : env_)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    const int out =
        open((log_file_ + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec: the test process has threads
        prctl(PR_SET_PDEATHSIG, SIGTERM);  // a crashed test leaves no server behind
        if (getppid() != parent)
            _exit(1);
        setpgid(0, 0);
        dup2(out, 1);
        dup2(out, 2);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(out);
    if (pid_ < 0)
        throw std::runtime_error("fork failed");
    const bool up = poll_until(
        [this] {
            const Stats s = stats();
            return s.ok && s.num("idle") == static_cast<std::int64_t>(s.workers().Size());
        },
        15);
    if (!up)
        throw std::runtime_error("instance " + name +
                                 " did not come up: " + read_text(log_file_ + ".out") + log());
}

Instance::~Instance()
{
    if (pid_ <= 0)  // a test stopped it and checked how itself
        return;
    // A graceful stop: SIGTERM ends the master, after its workers, with status 0.
    const int status = stop();
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0),
               "the server instance (log "
                   << log_file_ << ") did not stop cleanly on SIGTERM (status " << status << ")");
}

std::string Instance::log() const
{
    return read_text(log_file_);
}

std::string Instance::stats_output() const
{
    // The stack's binary, not the copy: a test may have put a broken one in its place.
    return command_output("APP_STATS_LISTEN=" + stats_listen_ + " " SERVER_BINARY " --stats");
}

Stats Instance::stats() const
{
    return parse_stats(stats_output());
}

void Instance::replace_binary(const std::string& content) const
{
    const std::string tmp = binary_ + ".new";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << content;
    }
    fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::rename(tmp, binary_);
}

int Instance::stop(int seconds, int sig)
{
    if (pid_ <= 0)
        return -1;
    kill(pid_, sig);
    int status = -1;
    const bool gone = poll_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, seconds);
    if (!gone) {
        for (pid_t child : children_of(pid_))
            kill(child, SIGKILL);
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        status = -1;
    }
    pid_ = -1;
    return status;
}

}  // namespace test
