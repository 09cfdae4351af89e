// log.h: log4cplus set up once per process: console (coloured on a terminal) in local development,
// a shared log file otherwise, optionally a remote syslog. Lines read "time LEVEL uid@ip message".
#pragma once
#include <string>
#include <vector>

#include <log4cplus/logger.h>
#include <log4cplus/loggingmacros.h>

#include "app/core/settings.h"

namespace core {

struct LogSettings {
    std::string file;                      // log_file; "": the console
    std::string level;                     // log_level: TRACE, DEBUG, INFO, WARN, ERROR
    bool sql;                              // log_sql: every SQL statement, never its values
    std::string syslog_host;               // log_syslog_host; "": no remote syslog
    int syslog_port;                       // log_syslog_port
    std::vector<std::string> secret_keys;  // log_secret_keys: fields logged as X
    static std::vector<Key> keys();
    static LogSettings from(const Config& c);  // ConfigError on a level log4cplus does not know
};

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
const std::string& log_context();

// While it lives, every line of this process carries " <source>" after its context, as the
// request line names the route's file: a background task's or cron job's own lines name the file
// that declared it ("cron@- reviews_jobs.cpp reviews_daily: 3 reviews").
class LogSource {
public:
    explicit LogSource(const std::string& source);
    ~LogSource();
    LogSource(const LogSource&) = delete;
    LogSource& operator=(const LogSource&) = delete;

private:
    std::string saved_;
};

// The one line per request (dispatcher.h). With a log file it bypasses log4cplus (its lock file
// and flush were about a fifth of a trivial request): write_access_line formats it into a reused
// buffer and appends it with one write() to the file opened O_APPEND, whose single writes of a
// line need no lock between processes; so the FastCGI loop can write it after the reply has
// gone. The buffers keep their capacity from one request to the next.
struct AccessLine {
    const char* logger = "";  // the name a log4cplus event would carry (remote syslog shows it)
    log4cplus::LogLevel level = log4cplus::NOT_SET_LOG_LEVEL;  // NOT_SET: nothing to write
    std::string context;                                       // log_context() of the request
    std::string message;
};
// True when access lines go to the log file directly (a file log; not the console).
bool access_log_direct();
// Writes a line made while access_log_direct() (to remote syslog too, when configured).
void write_access_line(const AccessLine& line);

// True when the SQL-logging switch (log_sql) is on: the model logs every statement.
bool log_sql();

}  // namespace core
