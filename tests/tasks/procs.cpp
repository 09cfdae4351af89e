// procs.cpp: see procs.h.
#include "tests/tasks/procs.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

namespace test {

TempDir::TempDir()
{
    char tmpl[] = "/tmp/restpie-tasks-XXXXXX";
    if (!mkdtemp(tmpl))
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

Helper::Helper(const std::vector<std::string>& args, const Env& env, const std::string& program)
{
    std::vector<std::string> strings{program};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<std::string> vars = environment_with(env);
    std::vector<char*> argv, envp;
    for (auto& s : strings)
        argv.push_back(s.data());
    for (auto& s : vars)
        envp.push_back(s.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        setsid();
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    if (pid_ < 0)
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
}

Helper::~Helper()
{
    if (pid_ <= 0)
        return;
    const pid_t pid = pid_;
    const int status = stop();
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0),
               "process " << pid << " did not stop cleanly on SIGTERM (status " << status << ")");
}

int Helper::stop(int seconds)
{
    if (pid_ <= 0)
        return -1;
    kill(pid_, SIGTERM);
    int status = -1;
    if (!poll_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, seconds)) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        status = -1;
    }
    kill(-pid_, SIGKILL);  // anything the group still holds (a worker outliving its master)
    pid_ = -1;
    return status;
}

std::vector<std::string> read_lines(const std::string& path)
{
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

std::vector<Note> read_notes(const std::string& path)
{
    std::vector<Note> out;
    for (const auto& line : read_lines(path)) {
        std::istringstream in(line);
        Note n{};
        if (in >> n.what >> n.id >> n.pid >> n.ms)
            out.push_back(n);
    }
    return out;
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ProcessFixture::ProcessFixture()
    : env{{"APP_LOG_FILE", tmp.path + "/app.log"},
          {"APP_TEST_MODE", "true"},
          {"TASK_TEST_DIR", tmp.path},
          {"APP_STOP_GRACE_SECONDS", "3"},
          // The spooler master's own, never the stack spooler's socket.
          {"APP_SPOOLER_STATS_LISTEN", "unix:" + tmp.path + "/spooler-stats.sock"},
          // Off, so two cron processes of one test never share it; a reload test turns it on.
          {"APP_CRON_STATS_LISTEN", ""}}
{
}

ProcessFixture::~ProcessFixture()
{
    namespace ut = boost::unit_test;
    if (!ut::results_collector.results(ut::framework::current_test_case().p_id).passed())
        BOOST_TEST_MESSAGE("log of the processes:\n" << log());
}

std::vector<Note> ProcessFixture::notes(const std::string& file) const
{
    return read_notes(tmp.path + "/" + file);
}

std::string ProcessFixture::log() const
{
    return read_text(tmp.path + "/app.log");
}

std::size_t ProcessFixture::count_in_log(const std::string& text) const
{
    const auto l = log();
    std::size_t n = 0;
    for (auto at = l.find(text); at != std::string::npos; at = l.find(text, at + 1))
        ++n;
    return n;
}

}  // namespace test
