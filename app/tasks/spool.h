// spool.h: the on-disk task queue. One JSON file per task in the spool directory, written
// atomically; a spooler process claims one by locking it and moving it into running/. spool() is
// what handlers, cron jobs and tasks call to run something in the background.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/core/settings.h"

namespace tasks {

using Clock = std::chrono::system_clock;
constexpr int kDefaultPriority = 5;  // 0 runs first, 9 last

struct SpoolSettings {
    std::string dir;  // spool_dir: the server spools into it, the spooler takes from it
    static std::vector<core::Key> keys();
    static SpoolSettings from(const core::Config& c);
};

// Spools the registered task `name` with args (a JSON object, as text) into the config's spool_dir;
// a spooler process runs it when one is free, never before not_before. Returns the task id.
// Throws core::HttpError 503 when the spool directory is missing or full (a fast error reply,
// never a wait), std::invalid_argument on a malformed name, args or priority (a caller's bug).
std::string spool(const std::string& name, const std::string& args_json,
                  std::optional<Clock::time_point> not_before = std::nullopt,
                  int priority = kDefaultPriority);

// A task's arguments built in place, so spooling a task needs no JSON code of its own:
// tasks::spool("review_notify", tasks::Args().add("review_id", id).add("movie", title)).
class Args {
public:
    Args& add(const std::string& key, const std::string& value);
    Args& add(const std::string& key, const char* value);
    Args& add(const std::string& key, std::int64_t value);
    Args& add(const std::string& key, int value) { return add(key, std::int64_t{value}); }
    Args& add(const std::string& key, bool value);
    std::string json() const;  // the JSON object, members in the order added

private:
    Args& member(const std::string& key, const std::string& json_value);
    std::string members_;  // "k":v,"k":v
};

// spool() with Args.
std::string spool(const std::string& name, const Args& args,
                  std::optional<Clock::time_point> not_before = std::nullopt,
                  int priority = kDefaultPriority);

// A task file's name, p<priority>-t<not before, ms since the epoch>-f<failed runs>-<id>.task:
// fixed widths, so names sort by priority, then time.
struct TaskName {
    int priority = kDefaultPriority;
    std::int64_t not_before_ms = 0;
    int failures = 0;
    std::string id;

    std::string str() const;
    std::string stem() const;                                            // without ".task"
    static std::optional<TaskName> parse(const std::string& file_name);  // nullopt: not a task
};

std::int64_t to_ms(Clock::time_point t);

// A task this process has claimed: its file is in running/ and this object holds a lock on it
// until it is settled. Left unsettled (the process dies, or the claim is destroyed), the task stays
// in running/ and SpoolDir::orphans() gives it to another process.
class Claim {
public:
    Claim(Claim&& other) noexcept;
    Claim& operator=(Claim&&) = delete;
    ~Claim();

    const TaskName& name() const { return name_; }
    const std::string& task() const { return task_; }  // "" when the file is unreadable
    const std::string& args_json() const { return args_; }
    const std::string& path() const { return path_; }
    double age_seconds() const;  // since it was claimed

    void done();                          // deletes the file
    void retry(Clock::time_point when);   // back into the queue, counting one more failure
    void fail(const std::string& error);  // into failed/, with <stem>.error beside it

private:
    friend class SpoolDir;
    Claim(std::string dir, TaskName name, std::string path, int fd);
    void settle();

    std::string dir_;  // the spool directory
    TaskName name_;
    std::string path_;  // in running/
    int fd_;            // holds the lock
    std::string task_, args_;
    Clock::time_point claimed_;
};

// The layout: <dir>/*.task waiting or ready, running/ claimed, failed/ given up (with .error).
class SpoolDir {
public:
    explicit SpoolDir(std::string dir) : dir_(std::move(dir)) {}
    const std::string& dir() const { return dir_; }
    std::string running_dir() const { return dir_ + "/running"; }
    std::string failed_dir() const { return dir_ + "/failed"; }

    // Creates the folders, and removes temporary files a crash left behind (the spooler, at start).
    void create() const;
    // Writes a task file atomically: a temporary file in the same folder, fsync, rename, fsync of
    // the folder. Throws std::system_error with the errno of what failed.
    std::string put(const std::string& name, const std::string& args_json,
                    std::optional<Clock::time_point> not_before, int priority) const;

    // The task files of a folder (dir(), running_dir() or failed_dir()), sorted as they run.
    std::vector<TaskName> list(const std::string& folder) const;
    // nullopt when another process has it already.
    std::optional<Claim> claim(const TaskName& t) const;
    // Tasks in running/ whose claimer is gone (no process holds their lock any more).
    std::vector<Claim> orphans() const;

private:
    std::string dir_;
};

}  // namespace tasks
