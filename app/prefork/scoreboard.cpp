// scoreboard.cpp: the shared-memory slots. Writers follow the seqlock pattern: bump seq to odd,
// write, bump it to even; the reader retries a few times while seq is odd or moved, then takes
// what it has (a worker killed mid-write leaves seq odd for good, until the master resets it).
#include "app/prefork/scoreboard.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace prefork {

const char* const kScoreboardEnv = "SUPERVISOR_SCOREBOARD";

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free");

namespace {

void copy_text(char* dst, std::size_t cap, const std::string& src)
{
    const std::size_t n = std::min(src.size(), cap - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

std::string text_of(const char* src, std::size_t cap)
{
    return std::string(src, strnlen(src, cap));
}

}  // namespace

const char* state_name(WorkerState s)
{
    switch (s) {
    case WorkerState::starting: return "starting";
    case WorkerState::idle: return "idle";
    case WorkerState::busy: return "busy";
    case WorkerState::leaving: return "leaving";
    }
    return "?";
}

const char* leave_reason_text(LeaveReason r)
{
    switch (r) {
    case LeaveReason::max_requests: return "served its max requests";
    case LeaveReason::rss: return "went over the memory limit";
    case LeaveReason::none: break;
    }
    return "";
}

std::int64_t steady_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Scoreboard::Scoreboard(int fd, int slots) : fd_(fd), slots_(slots)
{
    void* p = mmap(nullptr, sizeof(ScoreSlot) * static_cast<std::size_t>(slots),
                   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error(std::string("scoreboard mmap: ") + std::strerror(errno));
    base_ = static_cast<ScoreSlot*>(p);
}

Scoreboard::~Scoreboard()
{
    if (base_)
        munmap(base_, sizeof(ScoreSlot) * static_cast<std::size_t>(slots_));
    if (fd_ >= 0)
        close(fd_);
}

Scoreboard& Scoreboard::operator=(Scoreboard&& o) noexcept
{
    std::swap(fd_, o.fd_);
    std::swap(slots_, o.slots_);
    std::swap(base_, o.base_);
    return *this;
}

Scoreboard Scoreboard::create(int slots)
{
    // Close-on-exec: a worker gets it as fd 3 through dup2, a reload hands it over explicitly.
    const int fd = memfd_create("scoreboard", MFD_CLOEXEC);
    if (fd < 0 ||
        ftruncate(fd, static_cast<off_t>(sizeof(ScoreSlot) * static_cast<std::size_t>(slots))) < 0)
        throw std::runtime_error(std::string("scoreboard memfd: ") + std::strerror(errno));
    return Scoreboard(fd, slots);  // the file starts zeroed: every slot "starting", seq 0
}

void Scoreboard::reset(int index)
{
    std::memset(static_cast<void*>(&base_[index]), 0, sizeof(ScoreSlot));
}

SlotView Scoreboard::read(int index) const
{
    const ScoreSlot& s = base_[index];
    SlotView v;
    for (int attempt = 0; attempt < 4; ++attempt) {
        const auto before = s.seq.load(std::memory_order_acquire);
        v.pid = s.pid.load(std::memory_order_relaxed);
        v.state = static_cast<WorkerState>(s.state.load(std::memory_order_relaxed));
        v.leave_reason = static_cast<LeaveReason>(s.leave_reason.load(std::memory_order_relaxed));
        v.requests = s.requests.load(std::memory_order_relaxed);
        v.request_start_ms = s.request_start_ms.load(std::memory_order_relaxed);
        v.method = text_of(s.method, sizeof s.method);
        v.path = text_of(s.path, sizeof s.path);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (before % 2 == 0 && s.seq.load(std::memory_order_relaxed) == before)
            break;
    }
    return v;
}

ScoreWriter::ScoreWriter(int worker_number)
{
    const char* env = std::getenv(kScoreboardEnv);
    const int slots = env ? std::atoi(env) : 0;
    if (worker_number < 1 || worker_number > slots)
        return;
    board_ = Scoreboard(kScoreboardFd, slots);
    slot_ = board_.slot(worker_number - 1);
    slot_->pid.store(static_cast<std::int32_t>(getpid()), std::memory_order_relaxed);
    idle(0);
}

ScoreWriter::ScoreWriter(ScoreSlot* slot) : slot_(slot)
{
    idle(0);
}

void ScoreWriter::write(WorkerState state, const std::string* method, const std::string* path,
                        std::int64_t start_ms, std::uint64_t requests)
{
    if (!slot_)
        return;
    slot_->seq.fetch_add(1, std::memory_order_relaxed);  // odd: being written
    std::atomic_thread_fence(std::memory_order_release);
    slot_->state.store(static_cast<std::uint8_t>(state), std::memory_order_relaxed);
    slot_->request_start_ms.store(start_ms, std::memory_order_relaxed);
    slot_->requests.store(requests, std::memory_order_relaxed);
    if (method)
        copy_text(slot_->method, sizeof slot_->method, *method);
    if (path)
        copy_text(slot_->path, sizeof slot_->path, *path);
    slot_->seq.fetch_add(1, std::memory_order_release);  // even: consistent again
}

void ScoreWriter::idle(std::uint64_t requests)
{
    requests_ = requests;
    static const std::string none;
    write(WorkerState::idle, &none, &none, 0, requests);
}

void ScoreWriter::busy(const std::string& method, const std::string& path)
{
    write(WorkerState::busy, &method, &path, steady_ms(), requests_);
}

void ScoreWriter::leaving(LeaveReason why)
{
    if (slot_)
        slot_->leave_reason.store(static_cast<std::uint8_t>(why), std::memory_order_relaxed);
    write(WorkerState::leaving, nullptr, nullptr, 0, requests_);
}

}  // namespace prefork
