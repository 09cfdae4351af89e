// spooler.cpp: the spooler master (the server's supervisor code running spooler_processes
// processes), the task registry and the spooler's main.
#include "app/tasks/spooler.h"

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "app/core/config.h"
#include "app/core/log.h"
#include "app/core/program.h"
#include "app/prefork/stats.h"
#include "app/prefork/supervisor.h"
#include "app/tasks/spool.h"
#include "app/tasks/spool_stats.h"
#include "app/tasks/spooler_process.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.spooler");

int run_master(const Registry& registry, const SpoolerSettings& s, int argc, char** argv)
{
    core::init_logging(core::config(), "spooler");
    core::log_to_journal_too();
    SpoolDir(s.dir).create();
    SpoolStats::reset(s.dir);
    std::string names;
    for (const auto& d : registry.all())
        names += " " + d.name;
    LOG4CPLUS_INFO(lg, "spool directory " << s.dir << "; tasks:" << names);
    prefork::SupervisorOptions opt;
    opt.name = "spooler";
    opt.workers = s.processes;
    opt.stop_grace_seconds = core::settings<prefork::SupervisorOptions>().stop_grace_seconds;
    opt.program = prefork::self_path(argv[0]);
    opt.args.assign(argv + 1, argv + argc);
    // Spooler processes publish no requests on the scoreboard: the task time cap is theirs
    // (spooler_time_cap_seconds), and the server's reload file is the server's. The master's
    // stats socket (its processes and reload counters; the queue is `spooler --stats`) is
    // spooler_stats_listen, which `spooler --reload PID` reads.
    opt.harakiri_seconds = 0;
    opt.stats_listen = s.stats_listen;
    return prefork::run_supervisor(opt);
}

}  // namespace

void Registry::add(const std::string& name, TaskFn fn, std::string doc, const char* source)
{
    if (find(name))
        throw std::logic_error("duplicate task " + name);
    defs_.push_back(TaskDef{name, std::move(fn), std::move(doc), basename(source)});
}

const TaskDef* Registry::find(const std::string& name) const
{
    auto it =
        std::find_if(defs_.begin(), defs_.end(), [&](const TaskDef& d) { return d.name == name; });
    return it == defs_.end() ? nullptr : &*it;
}

std::int64_t retry_delay_seconds(int failures, std::int64_t base_seconds)
{
    constexpr std::int64_t kMax = 86400;
    std::int64_t d = base_seconds;
    for (int i = 1; i < failures && d < kMax; ++i)
        d *= 2;
    return std::min(d, kMax);
}

std::string spool_by_hand(const Registry& registry, const std::string& task,
                          const std::string& args_json, const std::string& in_seconds)
{
    if (!registry.find(task)) {
        std::string names;
        for (const auto& d : registry.all())
            names += " " + d.name;
        throw std::invalid_argument("no task named '" + task + "'; tasks:" + names);
    }
    std::size_t used = 0;
    long delay = -1;
    try {
        delay = std::stol(in_seconds, &used);
    } catch (const std::logic_error&) {
    }
    if (delay < 0 || used != in_seconds.size())
        throw std::invalid_argument("--in takes whole seconds >= 0, got '" + in_seconds + "'");
    const auto id = spool(task, args_json, Clock::now() + std::chrono::seconds(delay));
    const SpoolDir queue(core::settings<SpoolSettings>().dir);
    for (const auto& t : queue.list(queue.dir()))
        if (t.id == id)
            return queue.dir() + "/" + t.str();
    return "task " + id + " (taken by a spooler already)";
}

int spooler_main(int argc, char** argv, const core::SettingsSchema& schema,
                 const std::function<void(Registry&)>& add_jobs)
{
    return core::run_main(argc, argv, "spooler", schema, [&] {
        const auto s = core::settings<SpoolerSettings>();
        if (prefork::has_flag(argc, argv, "--stats")) {
            std::cout << stats_json(s.dir);
            return 0;
        }
        if (const auto pid = prefork::flag_value(argc, argv, "--reload"))
            return prefork::reload_and_wait("spooler", s.stats_listen, *pid);
        Registry registry;
        add_jobs(registry);
        if (prefork::has_flag(argc, argv,
                              "--check"))  // a reload (SIGHUP) asks first: can it start?
            return 0;
        const int n = prefork::worker_number(argc, argv);
        return n > 0 ? run_spooler_process(registry, s, n) : run_master(registry, s, argc, argv);
    });
}

}  // namespace tasks
