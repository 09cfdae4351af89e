// log.cpp: log4cplus appenders for every process kind. Several worker processes share one log
// file, so the file appender appends under a lock file and never rotates (logrotate copytruncate).
// The request lines skip log4cplus: one O_APPEND write() each, which copytruncate also suits.
#include "app/core/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include <log4cplus/consoleappender.h>
#include <log4cplus/fileappender.h>
#include <log4cplus/helpers/loglog.h>
#include <log4cplus/helpers/property.h>
#include <log4cplus/layout.h>
#include <log4cplus/mdc.h>
#include <log4cplus/helpers/timehelper.h>
#include <log4cplus/spi/loggingevent.h>
#include <log4cplus/syslogappender.h>

#include "app/core/config.h"
#include "app/core/errors.h"

namespace core {
namespace {

const char* const kPattern = "%D{%Y-%m-%d %H:%M:%S.%q} %-5p %X{ctx} %m%n";
bool g_log_sql = false;
std::string g_process = "-";
std::string g_context;
// The access lines' file: its name while access lines bypass log4cplus, the fd once opened (on
// the first line, so processes that serve no request hold no extra descriptor).
std::string g_access_file;
int g_access_fd = -1;
// The remote syslog's appender, when configured; the root logger owns it (a shared pointer here
// would outlive log4cplus at exit).
log4cplus::Appender* g_syslog = nullptr;

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

// What "%D{%Y-%m-%d %H:%M:%S.%q}" writes (local time), the seconds formatted once per second.
void append_time(std::string& out)
{
    static std::time_t last = -1;
    static char head[32];
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != last) {
        std::tm t{};
        localtime_r(&now.tv_sec, &t);
        std::strftime(head, sizeof head, "%Y-%m-%d %H:%M:%S", &t);
        last = now.tv_sec;
    }
    const long ms = now.tv_nsec / 1000000;
    out += head;
    out += '.';
    out += static_cast<char>('0' + ms / 100);
    out += static_cast<char>('0' + ms / 10 % 10);
    out += static_cast<char>('0' + ms % 10);
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

std::vector<Key> LogSettings::keys()
{
    return {Key::text("log_file", ""),
            Key::text("log_level", "INFO"),
            Key::flag("log_sql", false),
            Key::text("log_syslog_host", ""),
            Key::integer("log_syslog_port", 514, 1, 65535),
            Key::list("log_secret_keys", {"password", "passwd", "pwd", "token", "secret"})};
}

LogSettings LogSettings::from(const Config& c)
{
    LogSettings s{c.str("log_file"),
                  c.str("log_level"),
                  c.flag("log_sql"),
                  c.str("log_syslog_host"),
                  static_cast<int>(c.integer("log_syslog_port")),
                  c.list("log_secret_keys")};
    // Checked by name: log4cplus's fromString would print its own complaint too.
    const char* const levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF", "ALL"};
    if (std::find(std::begin(levels), std::end(levels), s.level) == std::end(levels))
        throw ConfigError("config key log_level: no such level: " + s.level);
    return s;
}

void init_logging(const Config& c, const std::string& process)
{
    auto root = log4cplus::Logger::getRoot();
    root.removeAllAppenders();
    const auto s = LogSettings::from(c);
    const auto mode = ModeSettings::from(c);
    if (g_access_fd >= 0)
        close(g_access_fd);
    g_access_fd = -1;
    g_access_file.clear();
    g_syslog = nullptr;
    // Local development logs to the console; test mode keeps the file, which the tests read.
    if (s.file.empty() || (mode.local_dev && !mode.test_mode)) {
        root.addAppender(console_appender());
    } else {
        root.addAppender(file_appender(s.file));
        g_access_file = s.file;
    }

    if (!s.syslog_host.empty()) {
        log4cplus::SharedAppenderPtr a(
            new log4cplus::SysLogAppender("restpie", s.syslog_host, s.syslog_port));
        a->setLayout(std::make_unique<log4cplus::PatternLayout>("%-5p %X{ctx} %m"));
        root.addAppender(a);
        g_syslog = a.get();
    }
    root.setLogLevel(log4cplus::getLogLevelManager().fromString(s.level));
    g_log_sql = s.sql;
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
    g_context.assign(uid).append(1, '@').append(ip);
    log4cplus::getMDC().put("ctx", g_context);
}

void clear_log_context()
{
    g_context = g_process;
    log4cplus::getMDC().put("ctx", g_context);
}

const std::string& log_context()
{
    return g_context;
}

LogSource::LogSource(const std::string& source) : saved_(g_context)
{
    g_context.append(1, ' ').append(source);
    log4cplus::getMDC().put("ctx", g_context);
}

LogSource::~LogSource()
{
    g_context = saved_;
    log4cplus::getMDC().put("ctx", g_context);
}

bool access_log_direct()
{
    return !g_access_file.empty();
}

void write_access_line(const AccessLine& line)
{
    if (line.level == log4cplus::NOT_SET_LOG_LEVEL || g_access_file.empty())
        return;
    if (g_access_fd < 0)
        g_access_fd = open(g_access_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    static std::string buf;
    buf.clear();
    append_time(buf);
    buf += ' ';
    const auto& level = log4cplus::getLogLevelManager().toString(line.level);
    buf += level;
    if (level.size() < 5)
        buf.append(5 - level.size(), ' ');  // %-5p
    buf += ' ';
    buf += line.context;
    buf += ' ';
    buf += line.message;
    buf += '\n';
    // One write of the whole line: O_APPEND puts it at the end in one piece, whatever the other
    // processes write meanwhile. A failed write (disk full) loses the line, as log4cplus would.
    if (g_access_fd < 0 || write(g_access_fd, buf.data(), buf.size()) < 0)
        log4cplus::helpers::getLogLog().error("cannot write to " + g_access_file);
    if (g_syslog) {
        // The same event as the logger's would have been, to the syslog appender only.
        const log4cplus::spi::InternalLoggingEvent ev(line.logger, line.level, "",
                                                      {{"ctx", line.context}}, line.message, "", "",
                                                      log4cplus::helpers::now(), "", 0);
        g_syslog->doAppend(ev);
    }
}

bool log_sql()
{
    return g_log_sql;
}

}  // namespace core
