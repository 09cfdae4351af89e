// run_log.h: logging in the spooler and cron processes, in the request log's format: the process
// marker stands where a request has its user id ("spool2@-", "cron@-").
#pragma once
#include <chrono>
#include <string>

namespace tasks {

// init_logging for this process, with "<marker>@-" on every line.
void init_task_logging(const std::string& marker);

// The time since start as the request log writes it: "3001.2ms".
std::string took(std::chrono::steady_clock::time_point start);

}  // namespace tasks
