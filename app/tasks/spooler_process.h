// spooler_process.h: one spooler process: takes tasks from the spool directory, one at a time,
// until it is told to stop or has run its max tasks. The master (spooler.cpp) runs N of them.
#pragma once
#include <string>

#include "app/core/settings.h"
#include "app/tasks/spooler.h"

namespace tasks {

struct SpoolerSettings {
    std::string dir;  // spool_dir (SpoolSettings' key)
    int processes, time_cap, max_tasks, max_retries, retry_seconds, scan_seconds;
    std::string stats_listen;  // spooler_stats_listen: the master's stats socket; "": off
    static std::vector<core::Key> keys();
    static SpoolerSettings from(const core::Config& c);
};

// Spooler process n (1-based); returns its exit code.
int run_spooler_process(const Registry& registry, const SpoolerSettings& s, int n);

}  // namespace tasks
