// log.cpp: log4cplus appenders for every process kind. Several worker processes share one log
// file, so the file appender appends under a lock file and never rotates (logrotate copytruncate).
#include "app/core/log.h"

#include <unistd.h>

#include <cstdlib>

#include <log4cplus/consoleappender.h>
#include <log4cplus/fileappender.h>
#include <log4cplus/helpers/property.h>
#include <log4cplus/layout.h>
#include <log4cplus/mdc.h>
#include <log4cplus/spi/loggingevent.h>
#include <log4cplus/syslogappender.h>

#include "app/core/config.h"

namespace core {
namespace {

const char* const kPattern = "%D{%Y-%m-%d %H:%M:%S.%q} %-5p %X{ctx} %m%n";
bool g_log_sql = false;
std::string g_process = "-";

// Yellow warnings and red errors, only where a person reads a terminal.
class ColorLayout : public log4cplus::PatternLayout {
public:
    ColorLayout() : PatternLayout(kPattern) {}
    void formatAndAppend(log4cplus::tostream& out,
                         const log4cplus::spi::InternalLoggingEvent& ev) override
    {
        const auto level = ev.getLogLevel();
        const char* color = level >= log4cplus::ERROR_LOG_LEVEL  ? "\033[31m"
                            : level >= log4cplus::WARN_LOG_LEVEL ? "\033[33m"
                                                                 : nullptr;
        if (color)
            out << color;
        PatternLayout::formatAndAppend(out, ev);
        if (color)
            out << "\033[0m";
    }
};

log4cplus::SharedAppenderPtr console_appender()
{
    log4cplus::SharedAppenderPtr a(new log4cplus::ConsoleAppender(false, true));
    if (isatty(STDOUT_FILENO))
        a->setLayout(std::make_unique<ColorLayout>());
    else
        a->setLayout(std::make_unique<log4cplus::PatternLayout>(kPattern));
    return a;
}

log4cplus::SharedAppenderPtr file_appender(const std::string& file)
{
    log4cplus::helpers::Properties p;
    p.setProperty("File", file);
    p.setProperty("Append", "true");
    p.setProperty("ImmediateFlush", "true");
    p.setProperty("CreateDirs", "true");
    p.setProperty("UseLockFile", "true");  // one line at a time from many processes
    p.setProperty("LockFile", file + ".lock");
    log4cplus::SharedAppenderPtr a(new log4cplus::FileAppender(p, std::ios_base::app));
    a->setLayout(std::make_unique<log4cplus::PatternLayout>(kPattern));
    a->setName("file");
    return a;
}

}  // namespace

log4cplus::Logger logger(const std::string& name)
{
    return log4cplus::Logger::getInstance(name);
}

void init_logging(const Config& c, const std::string& process)
{
    auto root = log4cplus::Logger::getRoot();
    root.removeAllAppenders();
    const std::string file = c.has("log_file") ? c.str("log_file") : "";
    // Local development logs to the console; test mode keeps the file, which the tests read.
    const bool test_mode = c.has("test_mode") && c.flag("test_mode");
    if (file.empty() || (c.flag("local_dev") && !test_mode))
        root.addAppender(console_appender());
    else
        root.addAppender(file_appender(file));

    if (c.has("log_syslog_host") && !c.str("log_syslog_host").empty()) {
        log4cplus::SharedAppenderPtr s(new log4cplus::SysLogAppender(
            "restpie", c.str("log_syslog_host"), static_cast<int>(c.integer("log_syslog_port"))));
        s->setLayout(std::make_unique<log4cplus::PatternLayout>("%-5p %X{ctx} %m"));
        root.addAppender(s);
    }
    const std::string level = c.has("log_level") ? c.str("log_level") : "INFO";
    root.setLogLevel(log4cplus::getLogLevelManager().fromString(level));
    g_log_sql = c.has("log_sql") && c.flag("log_sql");
    g_process = process;
    clear_log_context();
}

void log_to_journal_too()
{
    auto root = log4cplus::Logger::getRoot();
    if (!std::getenv("JOURNAL_STREAM") || root.getAllAppenders().empty() ||
        root.getAllAppenders().front()->getName() != "file")
        return;
    // No timestamp: the journal has its own.
    log4cplus::SharedAppenderPtr a(new log4cplus::ConsoleAppender(false, true));
    a->setLayout(std::make_unique<log4cplus::PatternLayout>("%-5p %X{ctx} %m%n"));
    root.addAppender(a);
}

void set_log_context(const std::string& uid, const std::string& ip)
{
    log4cplus::getMDC().put("ctx", uid + "@" + ip);
}

void clear_log_context()
{
    log4cplus::getMDC().put("ctx", g_process);
}

bool log_sql()
{
    return g_log_sql;
}

}  // namespace core
