// metrics.cpp: the shared request table and the text format. Every counter is a relaxed atomic
// add, so a worker never waits and a worker killed mid-request at most leaves one request's
// bucket without its share of the sum. Slots are only ever added (by the master, before the
// workers that use them start), never moved or reused, so old workers keep valid slot numbers
// across a reload.
#include "app/prefork/metrics.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "app/core/router.h"

namespace prefork {

const char* const kMetricsEnv = "SUPERVISOR_METRICS";

namespace {

constexpr int kSlots = 256;
const char* const kNone = "(none)";

struct Slot {
    std::atomic<std::uint32_t> used;
    char method[12];
    char route[112];
    std::atomic<std::uint64_t> buckets[kLatencyBuckets];
    std::atomic<std::uint64_t> sum_us;
};

std::string text_of(const char* s, std::size_t cap)
{
    return std::string(s, strnlen(s, cap));
}

void copy_text(char* dst, std::size_t cap, const std::string& src)
{
    const std::size_t n = std::min(src.size(), cap - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

std::string number(double v)
{
    char buf[32];
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

}  // namespace

struct MetricsTable::Shared {
    std::atomic<std::uint64_t> classes[5];
    Slot slots[kSlots];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "atomics in shared memory");

std::uint64_t RouteCounts::count() const
{
    std::uint64_t n = 0;
    for (auto b : buckets)
        n += b;
    return n;
}

std::string label_value(const std::string& v)
{
    std::string out = "\"";
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out + "\"";
}

void write_family(std::string& out, const char* name, const char* type, const char* help,
                  const std::vector<std::pair<std::string, double>>& samples)
{
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, value] : samples) {
        // A histogram's samples carry their suffix in the labels' place: "_bucket{...}".
        const bool suffixed = !labels.empty() && labels[0] == '_';
        out += name + (labels.empty() || suffixed ? labels : "{" + labels + "}") + " " +
               number(value) + "\n";
    }
}

std::string requests_text(const RequestCounts& c)
{
    std::string out;
    std::vector<std::pair<std::string, double>> classes, routes, histogram;
    for (std::size_t i = 0; i < c.classes.size(); ++i)
        classes.emplace_back("class=\"" + std::to_string(i + 1) + "xx\"",
                             static_cast<double>(c.classes[i]));
    for (const auto& r : c.routes) {
        const std::string labels =
            "method=" + label_value(r.method) + ",route=" + label_value(r.route);
        const auto count = static_cast<double>(r.count());
        routes.emplace_back(labels, count);
        double cumulative = 0;
        for (std::size_t b = 0; b < kLatencyBounds.size(); ++b) {
            cumulative += static_cast<double>(r.buckets[b]);
            histogram.emplace_back(
                "_bucket{" + labels + ",le=\"" + number(kLatencyBounds[b]) + "\"}", cumulative);
        }
        histogram.emplace_back("_bucket{" + labels + ",le=\"+Inf\"}", count);
        histogram.emplace_back("_sum{" + labels + "}", r.sum_seconds);
        histogram.emplace_back("_count{" + labels + "}", count);
    }
    write_family(out, "restpie_http_requests_total", "counter",
                 "Requests answered by the workers, by status class.", classes);
    write_family(out, "restpie_route_requests_total", "counter",
                 "Requests by route pattern; route \"(none)\" when no route matched.", routes);
    write_family(out, "restpie_route_request_duration_seconds", "histogram",
                 "Time from the request's arrival in the worker to its reply, by route.",
                 histogram);
    return out;
}

std::string master_text(const MasterCounters& c, std::int64_t busy, std::int64_t idle)
{
    std::string out;
    const auto one = [&](const char* name, const char* type, const char* help, double v) {
        write_family(out, name, type, help, {{"", v}});
    };
    one("restpie_workers_busy", "gauge", "Workers serving a request.", static_cast<double>(busy));
    one("restpie_workers_idle", "gauge", "Workers waiting for a request.",
        static_cast<double>(idle));
    one("restpie_worker_respawns_total", "counter", "Workers started again after one left or died.",
        static_cast<double>(c.respawns));
    one("restpie_worker_deaths_total", "counter", "Workers that died (not a clean exit).",
        static_cast<double>(c.deaths));
    one("restpie_harakiri_total", "counter", "Requests killed for running past harakiri_seconds.",
        static_cast<double>(c.harakiri));
    one("restpie_reloads_total", "counter", "Graceful reloads since the first start.",
        static_cast<double>(c.reloads));
    return out;
}

std::vector<std::pair<std::string, std::string>> route_labels(const core::Router& r)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& route : r.routes())
        out.emplace_back(route.method, route.pattern);
    return out;
}

MetricsTable::MetricsTable(int fd) : fd_(fd)
{
    void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error(std::string("metrics mmap: ") + std::strerror(errno));
    table_ = static_cast<Shared*>(p);
}

MetricsTable::~MetricsTable()
{
    if (table_)
        munmap(table_, sizeof(Shared));
    if (fd_ >= 0)
        close(fd_);
}

MetricsTable& MetricsTable::operator=(MetricsTable&& o) noexcept
{
    std::swap(fd_, o.fd_);
    std::swap(table_, o.table_);
    return *this;
}

MetricsTable MetricsTable::create()
{
    // Above the fds a worker gets (0, 3, 4), so handing it over as fd 4 never clobbers another.
    const int made = memfd_create("metrics", MFD_CLOEXEC);
    const int fd = made < 0 ? -1 : fcntl(made, F_DUPFD_CLOEXEC, 10);
    if (made >= 0)
        close(made);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(sizeof(Shared))) < 0)
        throw std::runtime_error(std::string("metrics memfd: ") + std::strerror(errno));
    return MetricsTable(fd);
}

int MetricsTable::bind(const std::vector<std::pair<std::string, std::string>>& labels)
{
    auto all = labels;
    all.insert(all.begin(), {kNone, kNone});
    const auto slots = slots_for(all);
    int free = 0, missing = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (slots[i] >= 0)
            continue;
        while (free < kSlots && table_->slots[free].used.load())
            ++free;
        if (free == kSlots) {
            ++missing;
            continue;
        }
        Slot& s = table_->slots[free];
        copy_text(s.method, sizeof s.method, all[i].first);
        copy_text(s.route, sizeof s.route, all[i].second);
        s.used.store(1, std::memory_order_release);
    }
    return missing;
}

std::vector<int> MetricsTable::slots_for(
    const std::vector<std::pair<std::string, std::string>>& labels) const
{
    std::vector<int> out(labels.size(), -1);
    for (int k = 0; k < kSlots && table_->slots[k].used.load(std::memory_order_acquire); ++k) {
        const Slot& s = table_->slots[k];
        const auto method = text_of(s.method, sizeof s.method),
                   route = text_of(s.route, sizeof s.route);
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (out[i] < 0 && labels[i].first == method && labels[i].second == route)
                out[i] = k;
    }
    return out;
}

void MetricsTable::record(int slot, int status, double seconds)
{
    if (!table_)
        return;
    const int cls = std::min(std::max(status / 100, 1), 5);
    table_->classes[cls - 1].fetch_add(1, std::memory_order_relaxed);
    if (slot < 0 || slot >= kSlots)
        return;
    std::size_t b = 0;
    while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b])
        ++b;
    Slot& s = table_->slots[slot];
    s.buckets[b].fetch_add(1, std::memory_order_relaxed);
    s.sum_us.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e6),
                       std::memory_order_relaxed);
}

RequestCounts MetricsTable::read() const
{
    RequestCounts c;
    if (!table_)
        return c;
    for (std::size_t i = 0; i < c.classes.size(); ++i)
        c.classes[i] = table_->classes[i].load(std::memory_order_relaxed);
    for (int k = 0; k < kSlots && table_->slots[k].used.load(std::memory_order_acquire); ++k) {
        const Slot& s = table_->slots[k];
        RouteCounts r;
        r.method = text_of(s.method, sizeof s.method);
        r.route = text_of(s.route, sizeof s.route);
        for (std::size_t b = 0; b < kLatencyBuckets; ++b)
            r.buckets[b] = s.buckets[b].load(std::memory_order_relaxed);
        r.sum_seconds = static_cast<double>(s.sum_us.load(std::memory_order_relaxed)) / 1e6;
        c.routes.push_back(std::move(r));
    }
    return c;
}

MetricsWriter::MetricsWriter(const core::Router& r)
{
    const char* env = std::getenv(kMetricsEnv);
    if (!env || std::strcmp(env, "1") != 0 || r.routes().empty())
        return;
    table_ = MetricsTable(kMetricsFd);
    first_ = r.routes().data();
    auto labels = route_labels(r);
    labels.insert(labels.begin(), {kNone, kNone});
    slots_ = table_.slots_for(labels);
}

void MetricsWriter::record(const core::Route* matched, int status, double seconds)
{
    if (!table_)
        return;
    // slots_[0] is "(none)"; route i is slots_[i + 1].
    const auto i = matched ? static_cast<std::size_t>(matched - first_) + 1 : 0;
    table_.record(i < slots_.size() ? slots_[i] : -1, status, seconds);
}

}  // namespace prefork
