// spool.cpp: task files on disk. Every change of place is one rename(2), so a task is always in
// exactly one folder whatever moment a process or the machine dies; a claim is an flock, which the
// kernel drops when its holder dies, so a dead claimer is told apart from a busy one without pids.
#include "app/tasks/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/log.h"
#include "app/core/password.h"
#include "app/core/settings.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.spool");
const char* const kTempPrefix = ".tmp-";
constexpr auto kStaleTemp = std::chrono::minutes(10);

[[noreturn]] void sys_fail(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

void fsync_dir(const std::string& dir)
{
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        sys_fail("open " + dir);
    const int rc = fsync(fd);
    const int err = errno;
    close(fd);
    errno = err;
    if (rc != 0)
        sys_fail("fsync " + dir);
}

void write_fd(int fd, const std::string& data, const std::string& path)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            sys_fail("write " + path);
        done += static_cast<std::size_t>(n);
    }
}

// A temporary file in the same folder, fsync, rename onto the name, fsync of the folder: a reader
// sees the whole file or none, even after a crash.
void write_atomically(const std::string& dir, const std::string& name, const std::string& data)
{
    const std::string tmp = dir + "/" + kTempPrefix + core::random_token(8);
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        sys_fail("create " + tmp);
    try {
        write_fd(fd, data, tmp);
        if (fsync(fd) != 0)
            sys_fail("fsync " + tmp);
        if (close(fd) != 0) {
            unlink(tmp.c_str());
            sys_fail("close " + tmp);
        }
    } catch (...) {
        close(fd);
        unlink(tmp.c_str());
        throw;
    }
    if (rename(tmp.c_str(), (dir + "/" + name).c_str()) != 0) {
        const int err = errno;
        unlink(tmp.c_str());
        errno = err;
        sys_fail("rename " + tmp);
    }
    fsync_dir(dir);
}

void move(const std::string& from, const std::string& to_dir, const std::string& name)
{
    if (rename(from.c_str(), (to_dir + "/" + name).c_str()) != 0)
        sys_fail("rename " + from);
    fsync_dir(to_dir);
}

// Opens and locks path; -1 when it is gone or another process holds it.
int lock_file(const std::string& path)
{
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat held, now;
    // Locked, but is it still the file at that path? It may have been run and deleted meanwhile.
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &held) != 0 ||
        stat(path.c_str(), &now) != 0 || held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
        close(fd);
        return -1;
    }
    return fd;
}

std::string local_iso(Clock::time_point t)
{
    const std::time_t s = Clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

bool valid_task_name(const std::string& name)
{
    return !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    });
}

}  // namespace

std::int64_t to_ms(Clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string TaskName::stem() const
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "p%d-t%013" PRId64 "-f%d-", priority, not_before_ms, failures);
    return buf + id;
}

std::string TaskName::str() const
{
    return stem() + ".task";
}

std::optional<TaskName> TaskName::parse(const std::string& file_name)
{
    TaskName t;
    int used = 0;
    if (std::sscanf(file_name.c_str(), "p%1d-t%13" SCNd64 "-f%4d-%n", &t.priority, &t.not_before_ms,
                    &t.failures, &used) != 3 ||
        used == 0)
        return std::nullopt;
    const auto dot = file_name.rfind(".task");
    if (dot == std::string::npos || dot <= static_cast<std::size_t>(used))
        return std::nullopt;
    t.id = file_name.substr(static_cast<std::size_t>(used), dot - static_cast<std::size_t>(used));
    if (!std::all_of(t.id.begin(), t.id.end(), ::isxdigit) || t.str() != file_name)
        return std::nullopt;  // only the canonical form: nothing else in the folder is a task
    return t;
}

Claim::Claim(std::string dir, TaskName name, std::string path, int fd)
    : dir_(std::move(dir)), name_(std::move(name)), path_(std::move(path)), fd_(fd)
{
    struct stat st {};
    fstat(fd_, &st);
    claimed_ = Clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                 std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    if (pread(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        return;
    try {
        const auto doc = core::JsonObject::parse(text);
        const auto args = doc.value().FindMember("args");
        if (args == doc.value().MemberEnd() || !args->value.IsObject())
            return;
        rapidjson::StringBuffer sb;
        core::JsonWriter w(sb);
        args->value.Accept(w);
        args_ = sb.GetString();
        task_ = doc.required_string("task");
    } catch (const std::exception&) {
        task_.clear();  // unreadable: the spooler moves it to failed/
    }
}

Claim::Claim(Claim&& o) noexcept
    : dir_(std::move(o.dir_)), name_(std::move(o.name_)), path_(std::move(o.path_)), fd_(o.fd_),
      task_(std::move(o.task_)), args_(std::move(o.args_)), claimed_(o.claimed_)
{
    o.fd_ = -1;
}

Claim::~Claim()
{
    settle();
}

void Claim::settle()
{
    if (fd_ >= 0)
        close(fd_);  // drops the lock, after the file has left running/
    fd_ = -1;
}

double Claim::age_seconds() const
{
    return std::chrono::duration<double>(Clock::now() - claimed_).count();
}

void Claim::done()
{
    if (unlink(path_.c_str()) != 0)
        sys_fail("unlink " + path_);
    settle();
}

void Claim::retry(Clock::time_point when)
{
    TaskName next = name_;
    next.failures++;
    next.not_before_ms = to_ms(when);
    move(path_, dir_, next.str());
    settle();
}

void Claim::fail(const std::string& error)
{
    TaskName next = name_;
    next.failures++;
    const SpoolDir spool(dir_);
    write_atomically(spool.failed_dir(), next.stem() + ".error", error + "\n");
    move(path_, spool.failed_dir(), next.str());
    settle();
}

void SpoolDir::create() const
{
    for (const auto& d : {dir_, running_dir(), failed_dir()})
        std::filesystem::create_directories(d);
    const auto now = std::filesystem::file_time_type::clock::now();
    for (const auto& d : {dir_, failed_dir()})
        for (const auto& e : std::filesystem::directory_iterator(d)) {
            std::error_code ec;
            if (e.path().filename().string().rfind(kTempPrefix, 0) == 0 &&
                now - e.last_write_time(ec) > kStaleTemp && !ec)
                std::filesystem::remove(e.path(), ec);
        }
}

std::string SpoolDir::put(const std::string& name, const std::string& args_json,
                          std::optional<Clock::time_point> not_before, int priority) const
{
    if (!valid_task_name(name))
        throw std::invalid_argument("bad task name '" + name + "': use letters, digits, _ . -");
    if (priority < 0 || priority > 9)
        throw std::invalid_argument("task priority must be 0..9, got " + std::to_string(priority));
    try {
        core::JsonObject::parse(args_json);
    } catch (const core::HttpError& e) {
        throw std::invalid_argument("task " + name + ": args must be a JSON object: " + e.what());
    }
    const auto now = Clock::now();
    const TaskName t{priority, to_ms(not_before.value_or(now)), 0, core::random_token(8)};
    write_atomically(dir_, t.str(),
                     R"({"task":)" + core::json_escape(name) + R"(,"id":")" + t.id +
                         R"(","spooled":")" + local_iso(now) + R"(","args":)" + args_json + "}\n");
    return t.id;
}

std::vector<TaskName> SpoolDir::list(const std::string& folder) const
{
    std::vector<TaskName> out;
    DIR* d = opendir(folder.c_str());
    if (!d)
        sys_fail("open " + folder);
    while (const dirent* e = readdir(d))
        if (auto t = TaskName::parse(e->d_name))
            out.push_back(std::move(*t));
    closedir(d);
    std::sort(out.begin(), out.end(),
              [](const TaskName& a, const TaskName& b) { return a.str() < b.str(); });
    return out;
}

std::optional<Claim> SpoolDir::claim(const TaskName& t) const
{
    const std::string from = dir_ + "/" + t.str();
    const int fd = lock_file(from);
    if (fd < 0)
        return std::nullopt;
    const std::string to = running_dir() + "/" + t.str();
    if (rename(from.c_str(), to.c_str()) != 0) {
        close(fd);
        return std::nullopt;
    }
    futimens(fd, nullptr);  // the claim time, for orphans() and the time-cap report
    return Claim(dir_, t, to, fd);
}

std::vector<Claim> SpoolDir::orphans() const
{
    std::vector<Claim> out;
    for (const auto& t : list(running_dir())) {
        const std::string path = running_dir() + "/" + t.str();
        const int fd = lock_file(path);
        if (fd >= 0)
            out.push_back(Claim(dir_, t, path, fd));
    }
    return out;
}

std::vector<core::Key> SpoolSettings::keys()
{
    // The server and the spooler must agree on it: a config must name it.
    return {core::Key::required_text("spool_dir")};
}

SpoolSettings SpoolSettings::from(const core::Config& c)
{
    return {c.str("spool_dir")};
}

Args& Args::member(const std::string& key, const std::string& json_value)
{
    members_ += (members_.empty() ? "" : ",") + core::json_escape(key) + ":" + json_value;
    return *this;
}

Args& Args::add(const std::string& key, const std::string& value)
{
    return member(key, core::json_escape(value));
}

Args& Args::add(const std::string& key, const char* value)
{
    return member(key, core::json_escape(value));
}

Args& Args::add(const std::string& key, std::int64_t value)
{
    return member(key, std::to_string(value));
}

Args& Args::add(const std::string& key, bool value)
{
    return member(key, value ? "true" : "false");
}

std::string Args::json() const
{
    return "{" + members_ + "}";
}

std::string spool(const std::string& name, const Args& args,
                  std::optional<Clock::time_point> not_before, int priority)
{
    return spool(name, args.json(), not_before, priority);
}

std::string spool(const std::string& name, const std::string& args_json,
                  std::optional<Clock::time_point> not_before, int priority)
{
    try {
        return SpoolDir(core::settings<SpoolSettings>().dir)
            .put(name, args_json, not_before, priority);
    } catch (const std::system_error& e) {
        const int err = e.code().value();
        const char* why = err == ENOENT || err == ENOTDIR  ? "spool directory missing"
                          : err == ENOSPC || err == EDQUOT ? "spool directory full"
                                                           : "spool directory not writable";
        LOG4CPLUS_ERROR(lg, "task " << name << " not spooled: " << e.what());
        throw core::HttpError(503, std::string("task not spooled: ") + why);
    }
}

}  // namespace tasks
