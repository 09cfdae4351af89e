// scoreboard.h: the workers' state in shared memory, one slot per worker: the master creates it
// (a memfd that each worker inherits as fd 3), a worker writes only its own slot and the master
// reads all of them every tick. No locks: a worker may be SIGKILLed mid-write, so a slot has a
// sequence counter (odd while written) and the master tolerates a torn read.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace prefork {

enum class WorkerState : std::uint8_t { starting, idle, busy, leaving };
// Why a worker left on its own, read by the master when it reaps the worker.
enum class LeaveReason : std::uint8_t { none, max_requests, rss };

const char* state_name(WorkerState s);
const char* leave_reason_text(LeaveReason r);

struct ScoreSlot {
    std::atomic<std::uint32_t> seq;
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint8_t> state;
    std::atomic<std::uint8_t> leave_reason;
    std::atomic<std::uint64_t> requests;         // served by this process
    std::atomic<std::int64_t> request_start_ms;  // steady clock (CLOCK_MONOTONIC), 0 when idle
    char method[12];
    char path[172];
};

// What the master read from a slot.
struct SlotView {
    pid_t pid = 0;
    WorkerState state = WorkerState::starting;
    LeaveReason leave_reason = LeaveReason::none;
    std::uint64_t requests = 0;
    std::int64_t request_start_ms = 0;
    std::string method, path;
};

std::int64_t steady_ms();  // now on the clock that request_start_ms uses

class Scoreboard {
public:
    Scoreboard() = default;
    Scoreboard(int fd, int slots);  // maps an existing scoreboard (after a reload)
    ~Scoreboard();
    Scoreboard(Scoreboard&& o) noexcept { *this = std::move(o); }
    Scoreboard& operator=(Scoreboard&& o) noexcept;

    static Scoreboard create(int slots);  // the master's
    int fd() const { return fd_; }
    int slots() const { return slots_; }
    explicit operator bool() const { return slots_ > 0; }

    void reset(int index);           // the master, before a new worker runs in the slot
    SlotView read(int index) const;  // the master; a torn read is possible and harmless
    ScoreSlot* slot(int index) const { return base_ + index; }

private:
    int fd_ = -1;
    int slots_ = 0;
    ScoreSlot* base_ = nullptr;
};

// The worker's end: its own slot in the scoreboard it inherited (a no-op when it has none, as
// when a worker binary is run by hand).
class ScoreWriter {
public:
    explicit ScoreWriter(int worker_number);  // reads SUPERVISOR_SCOREBOARD from the environment
    explicit ScoreWriter(ScoreSlot* slot);    // a slot of a board this process holds (tests)
    void idle(std::uint64_t requests);
    void busy(const std::string& method, const std::string& path);
    void leaving(LeaveReason why);

private:
    void write(WorkerState state, const std::string* method, const std::string* path,
               std::int64_t start_ms, std::uint64_t requests);
    Scoreboard board_;
    ScoreSlot* slot_ = nullptr;
    std::uint64_t requests_ = 0;
};

// The environment variable that tells a worker how many slots its scoreboard (on fd 3) has.
extern const char* const kScoreboardEnv;
constexpr int kScoreboardFd = 3;

}  // namespace prefork
