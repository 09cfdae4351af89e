// run_log.cpp: see run_log.h.
#include "app/tasks/run_log.h"

#include <cstdio>

#include "app/core/config.h"
#include "app/core/log.h"

namespace tasks {

void init_task_logging(const std::string& marker)
{
    core::init_logging(core::config(), marker);
    core::set_log_context(marker, "-");
}

std::string took(std::chrono::steady_clock::time_point start)
{
    char buf[32];
    std::snprintf(
        buf, sizeof buf, "%.1fms",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    return buf;
}

}  // namespace tasks
