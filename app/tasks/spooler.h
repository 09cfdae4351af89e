// spooler.h: background tasks: the registry of task functions (add_all_tasks fills it from the
// jobs files, jobs.h) and the spooler binary: a master that runs N spooler processes through the
// server's supervisor, each taking tasks from the spool directory one at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/core/json.h"

namespace core {
class SettingsSchema;
}

namespace tasks {

// ok and ignore delete the task (ignore: it is moot, logged as such); retry runs it again later.
// An exception counts as retry, with its message as the error.
enum class TaskResult { ok, retry, ignore };

struct Task {
    std::string id, name;
    core::JsonObject args;
    int failures;  // failed runs before this one
};

using TaskFn = std::function<TaskResult(const Task&)>;

struct TaskDef {
    std::string name;
    TaskFn fn;
    std::string doc;
    std::string source;  // the declaring file, shown in the log line of each run
};

class Registry {
public:
    // Throws std::logic_error on a duplicate name, at startup.
    void add(const std::string& name, TaskFn fn, std::string doc,
             const char* source = __builtin_FILE());
    const TaskDef* find(const std::string& name) const;
    const std::vector<TaskDef>& all() const { return defs_; }

private:
    std::vector<TaskDef> defs_;
};

// Seconds before the run after `failures` failed runs: spooler_retry_seconds, doubled for each
// earlier failure, at most a day.
std::int64_t retry_delay_seconds(int failures, std::int64_t base_seconds);

// `admin spool TASK ARGS_JSON --in SECONDS`: spools `task`, which must be in `registry`, to run in
// `in_seconds` (whole seconds >= 0, as text); returns the task file's path in the queue (only its
// id when a spooler has taken it already). Throws std::invalid_argument naming what is wrong.
std::string spool_by_hand(const Registry& registry, const std::string& task,
                          const std::string& args_json, const std::string& in_seconds);

// The spooler binary. `--stats` prints the stats as JSON; `--reload PID` reloads the master PID
// and waits for the result, as `server --reload` does (it needs spooler_stats_listen); `--worker
// N` (added by the master) is spooler process N; without either it is the master. The config is
// checked against `schema` (every module's keys: the config file is the server's too); add_jobs
// fills the registry.
int spooler_main(int argc, char** argv, const core::SettingsSchema& schema,
                 const std::function<void(Registry&)>& add_jobs);

}  // namespace tasks
