// cron.h: periodic jobs: timers (every N seconds) and cron entries (minute, hour, day, month,
// weekday) in local time, registered in code (add_all_cron_jobs fills it from the jobs files,
// jobs.h) and started by the cron binary, each run in a child process of its own under a time cap.
#pragma once
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "app/core/settings.h"

namespace tasks {

// A field is -1 (any value), -N (values divisible by N: minute -15 is :00, :15, :30, :45) or an
// exact value: minute 0..59, hour 0..23, day 1..31, month 1..12, weekday 0..6 from Sunday (7 is
// Sunday too). Day and weekday, as in uwsgi: when both are exact values a date matches if either
// does (day 1, weekday 1: the 1st of the month and every Monday); otherwise both must match.
struct Schedule {
    int every_seconds = 0;  // > 0: a timer; the fields below are then unused
    int minute = -1, hour = -1, day = -1, month = -1, weekday = -1;

    static Schedule every(int seconds);
    static Schedule at(int minute, int hour = -1, int day = -1, int month = -1, int weekday = -1);
    bool matches(const std::tm& local) const;  // always false for a timer
    std::string str() const;                   // "every 60 s" or "0 2 -1 -1 -1"
};

using JobFn = std::function<void()>;  // an exception is a failed run, logged with the job's name

struct Job {
    std::string name;
    Schedule schedule;
    JobFn fn;
    std::string doc;
    int cap_seconds;  // 0: the config's cron_time_cap_seconds
    std::string source;
};

class Cron {
public:
    // Throws std::logic_error on a duplicate name, std::invalid_argument on a field out of range.
    void add(const std::string& name, Schedule schedule, JobFn fn, std::string doc,
             int cap_seconds = 0, const char* source = __builtin_FILE());
    const Job* find(const std::string& name) const;
    const std::vector<Job>& jobs() const { return jobs_; }

private:
    std::vector<Job> jobs_;
};

// True for the first caller of the current period among all the servers that share the Redis: an
// atomic get-and-set of the period's number under "cron:once:<key>". Periods are counted in local
// time (86400: the local calendar day), so run a guarded job away from a period's edge, where
// clocks that differ a little between servers could place it in two periods. Throws
// core::Unavailable when Redis is down: the job fails rather than runs twice.
bool run_once_per(const std::string& key, std::int64_t period_seconds);

// Read before cron forks anything, so a bad key stops cron (and a reload's --check) by name.
struct CronSettings {
    int cap_seconds;           // cron_time_cap_seconds
    int grace_seconds;         // stop_grace_seconds (SupervisorOptions' key)
    std::string stats_listen;  // cron_stats_listen ("": off): --stats, --reload
    int minute_seconds;        // test_cron_minute_seconds, honoured only with test_mode (else 60)
    static std::vector<core::Key> keys();
    static CronSettings from(const core::Config& c);
};

// The environment variable that carries a reload's handover (the runs in progress, the last
// minute evaluated, the counters) into the re-executed image, which removes it at start.
extern const char* const kCronHandoverEnv;

// The cron binary: the scheduler, or with `--job NAME` (added by the scheduler) one run of a job;
// `--check` loads the config and the jobs and exits 0 (a reload asks it first); `--stats` and
// `--reload PID` (SIGHUP, then wait for its result) read the scheduler's cron_stats_listen. The
// config is checked against `schema` (every module's keys).
int cron_main(int argc, char** argv, const core::SettingsSchema& schema,
              const std::function<void(Cron&)>& add_jobs);

}  // namespace tasks
