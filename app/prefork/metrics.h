// metrics.h: request metrics in the Prometheus text format (0.0.4). Workers count each request in
// a table in shared memory that the master creates (a memfd each worker inherits as fd 4, and a
// reload hands over), one slot per route label, with lock-free atomic counters: a worker's counts
// are in the table the moment it makes them, so they outlive the worker and, with the table,
// a reload. The master reads the table and writes the text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/prefork/stats.h"

namespace core {
struct Route;
class Router;
}  // namespace core

namespace prefork {

// Upper bounds in seconds of the latency histogram's buckets; one more bucket is +Inf.
constexpr std::array<double, 12> kLatencyBounds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,   1,    2.5,   5,    10};
constexpr std::size_t kLatencyBuckets = kLatencyBounds.size() + 1;

struct RouteCounts {
    std::string method, route;                             // "(none)": no route matched
    std::array<std::uint64_t, kLatencyBuckets> buckets{};  // per bucket, not cumulative
    double sum_seconds = 0;
    std::uint64_t count() const;  // the sum of the buckets, so the two always agree
};

struct RequestCounts {
    std::array<std::uint64_t, 5> classes{};  // 1xx .. 5xx
    std::vector<RouteCounts> routes;
};

// The text of each family: "# HELP", "# TYPE", then the samples.
void write_family(std::string& out, const char* name, const char* type, const char* help,
                  const std::vector<std::pair<std::string, double>>& samples);  // labels, value
std::string label_value(const std::string& v);  // escaped and quoted: "a\"b"
std::string requests_text(const RequestCounts& c);
std::string master_text(const MasterCounters& c, std::int64_t busy, std::int64_t idle);

// A (method, route pattern) pair per route, as the router lists them.
std::vector<std::pair<std::string, std::string>> route_labels(const core::Router& r);

class MetricsTable {
public:
    MetricsTable() = default;
    explicit MetricsTable(int fd);  // maps an existing table (a reload's, a worker's fd 4)
    ~MetricsTable();
    MetricsTable(MetricsTable&& o) noexcept { *this = std::move(o); }
    MetricsTable& operator=(MetricsTable&& o) noexcept;
    static MetricsTable create();  // the master's: a zeroed memfd, close-on-exec
    int fd() const { return fd_; }
    explicit operator bool() const { return table_ != nullptr; }

    // The master, before it starts workers: a slot for each label (and "(none)"), keeping the
    // slot of a label seen before a reload. Returns how many found no free slot.
    int bind(const std::vector<std::pair<std::string, std::string>>& labels);
    // A worker: the slot of each label, -1 for one the table lacks.
    std::vector<int> slots_for(
        const std::vector<std::pair<std::string, std::string>>& labels) const;
    void record(int slot, int status, double seconds);  // slot -1: the status class only
    RequestCounts read() const;

    struct Shared;

private:
    int fd_ = -1;
    Shared* table_ = nullptr;
};

// A worker's end: the table on fd 4 when the master said so (SUPERVISOR_METRICS), else nothing.
class MetricsWriter {
public:
    explicit MetricsWriter(const core::Router& r);
    void record(const core::Route* matched, int status, double seconds);

private:
    MetricsTable table_;
    const core::Route* first_ = nullptr;
    std::vector<int> slots_;  // by route index
};

extern const char* const kMetricsEnv;
constexpr int kMetricsFd = 4;

}  // namespace prefork
