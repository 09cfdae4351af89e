// test_api_reload.cpp: graceful reload by each trigger (SIGHUP, a touch of the reload file, a new
// binary in local development) under a bounded load from a second process (api_loadgen): no
// request fails and the new binary serves. A binary that cannot start leaves the old workers.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>

#include "app/prefork/process.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::in_background;
using test::Instance;
using test::poll_until;
using test::status_of;

namespace {

// api_loadgen as a child process: its progress lines come through a pipe; closing its stdin
// lets it stop once it has done its minimum.
class Load {
public:
    Load(const std::string& path, int connections, long min_requests, int max_seconds,
         bool post = false)
    {
        int in[2], out[2];
        BOOST_REQUIRE(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
        std::vector<std::string> args{LOADGEN_BINARY, path, std::to_string(connections),
                                      std::to_string(min_requests), std::to_string(max_seconds)};
        if (post)
            args.push_back("post");
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = fork();
        if (pid_ == 0) {  // async-signal-safe calls only: the test process has threads
            dup2(in[0], 0);
            dup2(out[1], 1);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        out_ = out[0];
        BOOST_REQUIRE(pid_ > 0);
    }
    ~Load() { finish(); }

    // Requests done so far; waits up to `seconds` for them to reach `n`.
    long wait_for(long n, double seconds)
    {
        poll_until([&] { return read_lines(50) >= n || eof_; }, seconds);
        return done_;
    }
    long done() { return read_lines(0); }

    // Lets it stop and returns its last line: "total <done> <failed> <first error>".
    std::string finish()
    {
        if (pid_ <= 0)
            return last_;
        close(stdin_);
        poll_until(
            [&] {
                read_lines(100);
                return eof_;
            },
            60);
        close(out_);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return last_;
    }

private:
    long read_lines(int timeout_ms)
    {
        pollfd p{out_, POLLIN, 0};
        while (!eof_ && poll(&p, 1, timeout_ms) > 0) {
            char buf[4096];
            const ssize_t n = read(out_, buf, sizeof buf);
            if (n <= 0) {
                eof_ = true;
                break;
            }
            pending_.append(buf, static_cast<std::size_t>(n));
            for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
                last_ = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                std::istringstream(last_.substr(last_.find(' ') + 1)) >> done_;
            }
            timeout_ms = 0;
        }
        return done_;
    }

    pid_t pid_ = -1;
    int stdin_ = -1, out_ = -1;
    bool eof_ = false;
    long done_ = 0;
    std::string pending_, last_;
};

// A binary that differs from the running one (as a rebuild would), put in place; its build id.
std::string new_build(const Instance& inst, const std::string& marker)
{
    inst.replace_binary(test::read_text(SERVER_BINARY) + "\nbuild " + marker + "\n");
    return prefork::file_hash(inst.binary());
}

// Runs `trigger` (which returns the build id expected after the reload) under a load of at least
// 2,000 requests (POSTs with a body when `post`: nginx never retries those), at least 500 of
// them after the reload has completed.
void reload_under_load(const Instance& inst, int workers,
                       const std::function<std::string()>& trigger, bool post = false)
{
    const auto before = inst.stats();
    BOOST_REQUIRE(before.ok);
    Load load(Instance::url("/apitest/sleep?ms=1"), 4, 2000, 90, post);
    BOOST_REQUIRE(load.wait_for(500, 30) >= 500);
    const std::string expected = trigger();
    test::Stats after;
    const bool reloaded = poll_until(
        [&] {
            after = inst.stats();
            return after.num("reloads") == before.num("reloads") + 1 && after.pids(true).empty() &&
                   after.pids().size() == static_cast<std::size_t>(workers);
        },
        20);
    const long at_reload = load.done();
    load.wait_for(std::max(2000L, at_reload + 500), 60);
    std::istringstream result(load.finish());
    std::string word, error;
    long total = 0, failed = -1;
    result >> word >> total >> failed;
    std::getline(result, error);
    BOOST_TEST(reloaded);
    BOOST_TEST(total >= 2000);
    BOOST_TEST(total >= at_reload + 500);
    BOOST_TEST(failed == 0, failed << " failed; the first:" << error);
    BOOST_TEST(after.num("pid") == inst.pid());  // exec keeps the master's pid
    BOOST_TEST(after.str("build_id") == expected);
    BOOST_TEST(after.str("build_id") != before.str("build_id"));
    for (pid_t old : before.pids()) {
        const auto now = after.pids();
        BOOST_TEST((std::find(now.begin(), now.end(), old) == now.end()));
    }
    BOOST_TEST(inst.stats().num("requests") >= total);  // counted across the reload
}

// `server --reload PID`, systemd's ExecReload: it returns once the reload is over, with its result.
std::string reload_command(const Instance& inst)
{
    return test::command_output("APP_STATS_LISTEN=" + inst.stats_listen() +
                                " " SERVER_BINARY " --reload " + std::to_string(inst.pid()) +
                                "; echo \"exit $?\"");
}

// systemd's end of Type=notify: a datagram socket that collects what the master sends.
class NotifySocket {
public:
    NotifySocket() : path_(test::stack_run_dir() + "/notify.sock")
    {
        unlink(path_.c_str());
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        path_.copy(a.sun_path, sizeof a.sun_path - 1);
        BOOST_REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~NotifySocket()
    {
        close(fd_);
        unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }
    // Every message so far, one a line, the STATUS= lines left out.
    const std::string& states()
    {
        char buf[4096];
        ssize_t n;
        while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) {
            std::istringstream lines(std::string(buf, static_cast<std::size_t>(n)));
            for (std::string line; std::getline(lines, line);)
                if (line.rfind("STATUS=", 0) != 0)
                    states_ += line + "\n";
        }
        return states_;
    }

private:
    std::string path_, states_;
    int fd_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_reload)

BOOST_AUTO_TEST_CASE(systemd_hears_ready_reloading_and_stopping)
{
    NotifySocket systemd;
    Instance inst("notify", {{"APP_WORKERS", "2"},
                             {"APP_RELOAD_ON_REBUILD", "false"},
                             {"NOTIFY_SOCKET", systemd.path()}});
    BOOST_TEST(poll_until([&] { return systemd.states() == "READY=1\n"; }, 5), systemd.states());
    new_build(inst, "notify");
    BOOST_TEST(reload_command(inst).find("exit 0") != std::string::npos);
    // The new image says READY once its workers are up, and never a second startup READY.
    BOOST_TEST(systemd.states() == "READY=1\nRELOADING=1\nREADY=1\n");
    inst.replace_binary("#!/bin/sh\nexit 1\n");
    BOOST_TEST(reload_command(inst).find("exit 1") != std::string::npos);
    BOOST_TEST(systemd.states() == "READY=1\nRELOADING=1\nREADY=1\nRELOADING=1\nREADY=1\n");
    inst.stop();
    BOOST_TEST(systemd.states() ==
               "READY=1\nRELOADING=1\nREADY=1\nRELOADING=1\nREADY=1\nSTOPPING=1\n");
}

BOOST_AUTO_TEST_CASE(reload_on_sighup_under_load_fails_no_request)
{
    Instance inst("reload_hup", {{"APP_WORKERS", "3"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    reload_under_load(inst, 3, [&] {
        const auto next = new_build(inst, "hup");  // not watched: only the signal reloads
        BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
        return next;
    });
    BOOST_TEST(inst.log().find("reload (SIGHUP): checking") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reload_on_a_touch_of_the_reload_file_under_load_fails_no_request)
{
    Instance inst("reload_touch", {{"APP_WORKERS", "3"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    reload_under_load(inst, 3, [&] {
        const auto next = new_build(inst, "touch");
        BOOST_REQUIRE(utimensat(AT_FDCWD, inst.reload_file().c_str(), nullptr, 0) == 0);  // touch
        return next;
    });
    BOOST_TEST(inst.log().find("reload (touch of " + inst.reload_file() + ")") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(reload_on_sighup_under_post_load_fails_no_request)
{
    // A POST nginx has sent on a kept connection is never retried: a worker that closed a kept
    // connection under it would fail it.
    Instance inst("reload_post", {{"APP_WORKERS", "3"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    reload_under_load(
        inst, 3,
        [&] {
            const auto next = new_build(inst, "post");
            BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
            return next;
        },
        true);
}

BOOST_AUTO_TEST_CASE(reload_on_a_new_binary_in_local_dev_under_load_fails_no_request)
{
    Instance inst("reload_binary", {{"APP_WORKERS", "3"}});  // the stack is local_dev
    reload_under_load(inst, 3, [&] { return new_build(inst, "rebuild"); });
    BOOST_TEST(inst.log().find("reload (new binary " + inst.binary() + ")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(old_workers_finish_their_requests_within_the_reload_mercy_period)
{
    Instance inst("reload_mercy", {{"APP_WORKERS", "2"}, {"APP_RELOAD_MERCY_SECONDS", "3"}});
    auto finishing = in_background(Instance::url("/apitest/sleep?ms=1500"));
    auto stuck = in_background(Instance::url("/apitest/sleep?seconds=20"));
    BOOST_REQUIRE(poll_until([&] { return inst.stats().num("busy") == 2; }, 5));
    const auto start = std::chrono::steady_clock::now();
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    // The new workers serve while the old ones finish.
    BOOST_TEST(poll_until(
        [&] {
            const auto s = inst.stats();
            return s.pids(true).size() == 2 && s.pids().size() == 2 && s.num("idle") == 2;
        },
        5));
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    BOOST_TEST(finishing.get() == 200);  // finished by an old worker after the reload
    BOOST_TEST(stuck.get() == 502);      // killed when the mercy period ran out
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(took >= 3.0);
    BOOST_TEST(took <
               12.0);  // long before the stuck request's 20 s, with room for a loaded machine
    BOOST_TEST(inst.log().find("still busy after the reload mercy period: SIGKILL") !=
               std::string::npos);
    BOOST_TEST(poll_until([&] { return inst.stats().pids(true).empty(); }, 5));
}

BOOST_AUTO_TEST_CASE(reload_with_a_binary_that_cannot_start_keeps_the_old_workers)
{
    Instance inst("reload_broken", {{"APP_WORKERS", "2"}});
    const auto before = inst.stats();
    inst.replace_binary("#!/bin/sh\necho 'cannot start: a broken build' >&2\nexit 1\n");
    const std::string aborted =
        "--check failed (exit code 1: cannot start: a broken build); the old workers keep serving";
    BOOST_TEST(poll_until([&] { return inst.log().find(aborted) != std::string::npos; }, 10));
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);  // a signal does no harm either
    BOOST_TEST(poll_until(
        [&] {
            const auto log = inst.log();
            return log.find(aborted) != log.rfind(aborted);
        },
        10));
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    const auto s = inst.stats();
    BOOST_TEST(s.num("reloads") == 0);
    BOOST_TEST(s.pids() == before.pids());
    BOOST_TEST(s.str("build_id") == before.str("build_id"));

    const auto fixed = new_build(inst, "fixed");
    BOOST_TEST(poll_until(
        [&] {
            const auto t = inst.stats();
            return t.num("reloads") == 1 && t.str("build_id") == fixed && t.pids(true).empty();
        },
        15));
}

BOOST_AUTO_TEST_CASE(reload_command_waits_for_the_new_workers_and_exits_0)
{
    Instance inst("reload_cmd", {{"APP_WORKERS", "2"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    const auto before = inst.stats();
    const auto next = new_build(inst, "command");
    const auto out = reload_command(inst);
    const auto after = inst.stats();  // right after the command: the reload is over already
    BOOST_TEST(out.find("server: reload 1 done: build ") == 0u, out);
    BOOST_TEST(out.find("exit 0") != std::string::npos, out);
    BOOST_TEST(after.num("reloads_started") == 1);
    BOOST_TEST(after.num("reloads_done") == 1);
    BOOST_TEST(after.num("reloads_failed") == 0);
    BOOST_TEST(after.str("build_id") == next);
    BOOST_TEST(after.pids().size() == 2u);
    for (pid_t old : before.pids()) {
        const auto now = after.pids();
        BOOST_TEST((std::find(now.begin(), now.end(), old) == now.end()));
    }
    BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
}

// The master re-executes itself on each reload: nothing but the handed-over descriptors may go
// along (the log and its lock file did, one more each time, before the fix).
BOOST_AUTO_TEST_CASE(reloads_leak_no_descriptor)
{
    Instance inst("reload_fds", {{"APP_WORKERS", "1"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    // What the master holds open, one "fd -> target" a line.
    const auto open_fds = [&] {
        std::string out;
        const auto dir = "/proc/" + std::to_string(inst.pid()) + "/fd";
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            std::error_code ec;
            out += e.path().filename().string() + " -> " +
                   std::filesystem::read_symlink(e.path(), ec).string() + "\n";
        }
        return out;
    };
    // Settled: the old worker of a reload gone, and with it whatever the master held for it.
    const auto settled = [&] { return inst.stats().pids(true).empty(); };
    BOOST_TEST(reload_command(inst).find("exit 0") != std::string::npos);  // the steady state
    BOOST_REQUIRE(poll_until(settled, 10));
    const auto before = open_fds();
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(reload_command(inst).find("exit 0") != std::string::npos);
    BOOST_REQUIRE(poll_until(settled, 10));
    // A leak stays (the log and its lock file went along, one more each time, before the fix);
    // a socket of the moment goes (beside a CPU hog, 2 runs in 12 saw one more socket just after
    // the reloads, none a moment later).
    const auto lines = [](const std::string& s) { return test::occurrences(s, "\n"); };
    std::string after;
    BOOST_TEST(poll_until(
                   [&] {
                       after = open_fds();
                       return lines(after) <= lines(before);
                   },
                   5),
               "before:\n"
                   << before << "after:\n"
                   << after);
}

BOOST_AUTO_TEST_CASE(reload_command_fails_when_the_check_fails_and_the_old_workers_serve_on)
{
    Instance inst("reload_cmd_broken", {{"APP_WORKERS", "2"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    const auto before = inst.stats();
    inst.replace_binary("#!/bin/sh\necho 'cannot start: a broken build' >&2\nexit 1\n");
    const auto out = reload_command(inst);
    BOOST_TEST(out.find("server: reload aborted, the old workers keep serving: ") == 0u, out);
    BOOST_TEST(
        out.find("--check failed (exit code 1: cannot start: a broken build)") != std::string::npos,
        out);
    BOOST_TEST(out.find("exit 1") != std::string::npos, out);
    const auto s = inst.stats();
    BOOST_TEST(s.num("reloads_failed") == 1);
    BOOST_TEST(s.num("reloads_done") == 0);
    BOOST_TEST(s.str("last_reload_error").find("--check failed") != std::string::npos);
    BOOST_TEST(s.pids() == before.pids());
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);

    // Fixed: the next reload command succeeds and clears the error.
    new_build(inst, "fixed");
    const auto again = reload_command(inst);
    BOOST_TEST(again.find("exit 0") != std::string::npos, again);
    BOOST_TEST(inst.stats().str("last_reload_error").empty());
}

BOOST_AUTO_TEST_CASE(reload_command_needs_the_stats_socket)
{
    const auto out = test::command_output("APP_STATS_LISTEN= " SERVER_BINARY
                                          " --reload 12345; "
                                          "echo \"exit $?\"");
    BOOST_TEST(out.find("needs the master's stats socket") != std::string::npos, out);
    BOOST_TEST(out.find("exit 1") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
