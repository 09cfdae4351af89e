// log.h: log4cplus set up once per process: console (coloured on a terminal) in local development,
// a shared log file otherwise, optionally a remote syslog. Lines read "time LEVEL uid@ip message".
#pragma once
#include <string>

#include <log4cplus/logger.h>
#include <log4cplus/loggingmacros.h>

namespace core {

class Config;

// One logger per .cpp: `const auto lg = core::logger("api.movies");`
log4cplus::Logger logger(const std::string& name);

// Call once in main, after log4cplus::Initializer and set_config. `process` names the process in
// the log (e.g. "master", "w3"); it stands in place of the user id until a request sets one.
void init_logging(const Config& c, const std::string& process);

// For the long-running masters (server, spooler, cron), after init_logging: under systemd (its
// JOURNAL_STREAM is set) and logging to a file, the same lines go to stdout too, which is the
// journal: `journalctl -u app-server` shows starts, reloads, deaths and stops beside systemd's.
// Workers never call it: their request lines stay in the file only.
void log_to_journal_too();

// The "uid@ip" part of every following line of this process (the dispatcher sets it per request).
void set_log_context(const std::string& uid, const std::string& ip);
void clear_log_context();

// True when the SQL-logging switch (log_sql) is on: the model logs every statement.
bool log_sql();

}  // namespace core
