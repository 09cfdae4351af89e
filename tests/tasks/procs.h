// procs.h: real processes for the tasks suite: the test helper binary (the spooler or cron with the
// test tasks and jobs) started with extra environment in a temporary folder, and stopped by pid.
#pragma once
#include "tests/support.h"
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace test {

using Env = std::map<std::string, std::string>;

// A fresh folder under /tmp, removed with all it holds at the end.
struct TempDir {
    std::string path;
    TempDir();
    ~TempDir();
};

// TASK_HELPER (or a copy of it at `program`) args... in a session of its own (so its process
// group can be killed as one), with the test's environment plus env.
class Helper {
public:
    Helper(const std::vector<std::string>& args, const Env& env,
           const std::string& program = TASK_HELPER);
    // Stops it and checks that SIGTERM ended it gracefully, with status 0.
    ~Helper();
    Helper(const Helper&) = delete;
    Helper& operator=(const Helper&) = delete;

    pid_t pid() const { return pid_; }
    // SIGTERM, up to `seconds` for a graceful exit, then SIGKILL to the whole group. Returns the
    // wait status of a graceful exit, -1 when it had to be killed (or was stopped before).
    int stop(int seconds = 15);

private:
    pid_t pid_ = -1;
};

std::vector<std::string> read_lines(const std::string& path);

// The helper's note lines "<what> <id> <pid> <ms>", split.
struct Note {
    std::string what, id;
    pid_t pid;
    std::int64_t ms;
};
std::vector<Note> read_notes(const std::string& path);

std::int64_t now_ms();

// What a test of spooler or cron processes starts from: a temporary folder for their log and the
// test jobs' notes, their environment (add to env before starting them), and their log printed
// when the test fails.
struct ProcessFixture {
    TempDir tmp;
    Env env;
    ProcessFixture();
    ~ProcessFixture();
    std::vector<Note> notes(const std::string& file) const;
    std::string log() const;
    std::size_t count_in_log(const std::string& text) const;
};

}  // namespace test
