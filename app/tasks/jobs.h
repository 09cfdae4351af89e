// jobs.h: the app's background tasks and cron jobs. Each jobs file ends with its one add_*()
// function, which the spooler and cron binaries call; typed helpers spool the tasks.
#pragma once
#include <string>

namespace tasks {

class Registry;
class Cron;

void add_spool_jobs(Registry& r);  // spool_jobs.cpp
void add_cron_jobs(Cron& c);       // cron_jobs.cpp

// Spools send_email; returns the task id. Throws core::HttpError 503 when it cannot (see spool()).
// Secrets belong in a field named like one of log_secret_keys (e.g. "token"): the log masks them.
std::string spool_send_email(const std::string& to, const std::string& subject,
                             const std::string& body);

}  // namespace tasks
