// jobs.h: the app's background tasks and cron jobs. Every app/tasks/<name>_jobs.cpp is a jobs
// file: it ends with `void tasks::add_<name>_jobs(tasks::Registry& r, tasks::Cron& c)`, which
// registers its tasks in r and its cron jobs in c. CMake finds the jobs files and generates the
// two lists below (app/tasks/all_jobs.cpp.in), so a new jobs file is all a new task or job needs.
#pragma once
#include <string>

namespace tasks {

class Registry;
class Cron;

// Generated: every jobs file's tasks (the spooler, `admin spool`) and cron jobs (cron).
void add_all_tasks(Registry& r);
void add_all_cron_jobs(Cron& c);

// Spools send_email; returns the task id. Throws core::HttpError 503 when it cannot (see spool()).
// Secrets belong in a field named like one of log_secret_keys (e.g. "token"): the log masks them.
std::string spool_send_email(const std::string& to, const std::string& subject,
                             const std::string& body);

}  // namespace tasks
