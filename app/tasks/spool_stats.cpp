// spool_stats.cpp: the counters file. Each slot has one writer, so plain relaxed atomic stores
// suffice; a reader may see a task name half written, which only a person reads.
#include "app/tasks/spool_stats.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <system_error>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "app/prefork/metrics.h"
#include "app/tasks/spool.h"

namespace tasks {

struct SpoolStats::Slot {
    std::int64_t pid, tasks, busy_since_ms;
    std::array<std::int64_t, 4> counters;  // by Counter
    char task[72];
};

namespace {

constexpr std::size_t kFileSize = sizeof(SpoolStats::Slot) * SpoolStats::kSlots;

std::string stats_file(const std::string& spool_dir)
{
    return spool_dir + "/stats.bin";
}

void store(std::int64_t& field, std::int64_t v)
{
    __atomic_store_n(&field, v, __ATOMIC_RELAXED);
}
std::int64_t load(const std::int64_t& field)
{
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

// The whole file, read-only; empty slots when it does not exist yet.
std::array<SpoolStats::Slot, SpoolStats::kSlots> read_slots(const std::string& spool_dir)
{
    std::array<SpoolStats::Slot, SpoolStats::kSlots> slots{};
    const int fd = open(stats_file(spool_dir).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (pread(fd, slots.data(), kFileSize, 0) < 0)
            slots.fill(SpoolStats::Slot{});
        close(fd);
    }
    return slots;
}

}  // namespace

void SpoolStats::reset(const std::string& spool_dir)
{
    const auto path = stats_file(spool_dir);
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || ftruncate(fd, kFileSize) != 0)
        throw std::system_error(errno, std::generic_category(), "create " + path);
    close(fd);
}

SpoolStats::SpoolStats(const std::string& spool_dir, int n)
{
    if (n < 1 || n >= kSlots)
        throw std::invalid_argument("spooler process number out of range: " + std::to_string(n));
    const auto path = stats_file(spool_dir);
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    struct stat st {};
    // Never truncate here: the other processes have the file mapped.
    if (fd < 0 || fstat(fd, &st) != 0 ||
        (st.st_size < static_cast<off_t>(kFileSize) && ftruncate(fd, kFileSize) != 0))
        throw std::system_error(errno, std::generic_category(), "open " + path);
    map_ = mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map_ == MAP_FAILED)
        throw std::system_error(errno, std::generic_category(), "mmap " + path);
    slot_ = static_cast<Slot*>(map_) + n;
    store(slot_->pid, getpid());
    store(slot_->tasks, 0);
    store(slot_->busy_since_ms, 0);
}

SpoolStats::~SpoolStats()
{
    store(slot_->pid, 0);
    munmap(map_, kFileSize);
}

void SpoolStats::task_started(const std::string& name)
{
    std::strncpy(slot_->task, name.c_str(), sizeof slot_->task - 1);
    store(slot_->busy_since_ms, to_ms(Clock::now()));
}

void SpoolStats::task_finished()
{
    store(slot_->busy_since_ms, 0);
    store(slot_->tasks, load(slot_->tasks) + 1);
}

void SpoolStats::add(Counter c)
{
    auto& field = slot_->counters[static_cast<std::size_t>(c)];
    store(field, load(field) + 1);
}

namespace {

struct Totals {
    std::int64_t ready = 0, scheduled = 0, running = 0, failed_folder = 0;
    std::array<std::int64_t, 4> counters{};  // by Counter
};
const char* const kCounterNames[] = {"done", "retried", "failed", "ignored"};

using Slots = std::array<SpoolStats::Slot, SpoolStats::kSlots>;

Totals totals(const std::string& spool_dir, const Slots& slots)
{
    const SpoolDir spool(spool_dir);
    const auto now_ms = to_ms(Clock::now());
    Totals t;
    for (const auto& task : spool.list(spool.dir()))
        (task.not_before_ms > now_ms ? t.scheduled : t.ready)++;
    t.running = static_cast<std::int64_t>(spool.list(spool.running_dir()).size());
    t.failed_folder = static_cast<std::int64_t>(spool.list(spool.failed_dir()).size());
    for (const auto& s : slots)
        for (std::size_t i = 0; i < t.counters.size(); ++i)
            t.counters[i] += s.counters[i];
    return t;
}

}  // namespace

std::string spool_metrics(const std::string& spool_dir)
{
    Totals t;
    try {
        t = totals(spool_dir, read_slots(spool_dir));
    } catch (const std::exception&) {
        return "";  // no spool directory yet: the spooler has not run
    }
    std::string out;
    const auto one = [&](const char* name, const char* type, const char* help, std::int64_t v) {
        prefork::write_family(out, name, type, help, {{"", static_cast<double>(v)}});
    };
    one("restpie_spool_queue", "gauge", "Spooled tasks due and waiting for a spooler process.",
        t.ready);
    one("restpie_spool_scheduled", "gauge", "Spooled tasks waiting for a later time (retries).",
        t.scheduled);
    one("restpie_spool_running", "gauge", "Tasks being run.", t.running);
    one("restpie_spool_failed_folder", "gauge", "Tasks moved aside after their last retry.",
        t.failed_folder);
    const auto& n = t.counters;
    one("restpie_spool_tasks_done_total", "counter", "Tasks run successfully.", n[0]);
    one("restpie_spool_tasks_retried_total", "counter", "Failed runs put back for a retry.", n[1]);
    one("restpie_spool_tasks_failed_total", "counter", "Tasks that failed their last retry.", n[2]);
    return out;
}

std::string stats_json(const std::string& spool_dir)
{
    const auto now_ms = to_ms(Clock::now());
    const auto slots = read_slots(spool_dir);
    const Totals t = totals(spool_dir, slots);
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("queue"), w.Int64(t.ready);
    w.Key("scheduled"), w.Int64(t.scheduled);
    w.Key("running"), w.Int64(t.running);
    w.Key("failed_folder"), w.Int64(t.failed_folder);
    for (std::size_t i = 0; i < t.counters.size(); ++i)
        w.Key(kCounterNames[i]), w.Int64(t.counters[i]);
    w.Key("processes");
    w.StartArray();
    for (int n = 1; n < SpoolStats::kSlots; ++n) {
        const auto& s = slots[static_cast<std::size_t>(n)];
        if (s.pid <= 0 || kill(static_cast<pid_t>(s.pid), 0) != 0)
            continue;
        w.StartObject();
        w.Key("n"), w.Int(n);
        w.Key("pid"), w.Int64(s.pid);
        w.Key("tasks"), w.Int64(s.tasks);
        if (s.busy_since_ms > 0) {
            w.Key("task"), w.String(std::string(s.task, strnlen(s.task, sizeof s.task)).c_str());
            w.Key("busy_s"), w.Double(static_cast<double>(now_ms - s.busy_since_ms) / 1000.0);
        }
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

}  // namespace tasks
