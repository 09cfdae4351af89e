// spool_stats.h: the spooler's counters: one slot per spooler process in a small file mapped into
// each of them (<spool_dir>/stats.bin), reset when the spooler master starts; `spooler --stats`
// adds them up with the folder counts.
#pragma once
#include <cstdint>
#include <string>

namespace tasks {

enum class Counter { done, retried, failed, ignored };

class SpoolStats {
public:
    static constexpr int kSlots = 64;  // spooler process numbers 1..63

    // Zeroes every slot (the master, before it starts the processes).
    static void reset(const std::string& spool_dir);
    // The slot of spooler process n; this process is the only one that writes it.
    SpoolStats(const std::string& spool_dir, int n);
    ~SpoolStats();
    SpoolStats(const SpoolStats&) = delete;
    SpoolStats& operator=(const SpoolStats&) = delete;

    void task_started(const std::string& name);
    void task_finished();  // counts one more task run by this process
    void add(Counter c);

    struct Slot;

private:
    Slot* slot_ = nullptr;
    void* map_ = nullptr;
};

// The report: {"queue", "scheduled" (not yet due), "running", "failed_folder", the counters
// "done", "retried", "failed", "ignored" since the master started, and "processes": one entry per
// live spooler process with its pid, tasks run and current task}.
std::string stats_json(const std::string& spool_dir);

// The same counts in the Prometheus text format (the server's metrics page): the gauges
// restpie_spool_queue (tasks due and waiting), _scheduled, _running, _failed_folder, and the
// counters restpie_spool_tasks_done_total, _retried_total, _failed_total (since the spooler
// master started). Nothing when the spool directory cannot be read.
std::string spool_metrics(const std::string& spool_dir);

}  // namespace tasks
