// traffic.cpp: see traffic.h.
#include "tests/api/traffic.h"

#include <algorithm>
#include <sstream>

#include "tests/api/instance.h"

namespace test {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

Traffic::Traffic(int threads, long max_each, double max_seconds, Call call)
    : call_(std::move(call)),
      deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(max_seconds)))
{
    running_ = threads;  // before they start: wait_for() ends when none runs
    for (int t = 0; t < threads; ++t)
        threads_.emplace_back([this, t, max_each] { run(t, max_each); });
}

long Traffic::wait_for(long n, double seconds)
{
    poll_until([&] { return done_ >= n || running_ == 0; }, seconds);
    return done_;
}

bool Traffic::pause(double seconds)
{
    std::unique_lock<std::mutex> lock(mutex_);
    paused_ = true;
    return changed_.wait_for(lock, std::chrono::duration<double>(seconds),
                             [&] { return in_flight_ == 0; });
}

void Traffic::resume()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        paused_ = false;
    }
    changed_.notify_all();
}

void Traffic::finish(bool all)
{
    stop_ = !all;
    resume();
    for (auto& t : threads_)
        t.join();
    threads_.clear();
}

long Traffic::count(int status) const
{
    const auto it = statuses_.find(status);
    return it == statuses_.end() ? 0 : it->second;
}

long Traffic::failed(const std::function<bool(int)>& ok) const
{
    long n = 0;
    for (const auto& [status, k] : statuses_)
        n += ok(status) ? 0 : k;
    return n;
}

std::string Traffic::summary() const
{
    std::ostringstream out;
    for (const auto& [status, n] : statuses_)
        out << status << " x " << n << ", ";
    out << "slowest " << slowest_ << " s" << first_failure_;
    return out.str();
}

void Traffic::run(int thread, long max_each)
{
    for (long n = 0; n < max_each && !stop_ && Clock::now() < deadline_; ++n) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [&] { return !paused_ || stop_; });
            ++in_flight_;
        }
        const auto start = Clock::now();
        const int status = call_(thread, n);
        const double took = std::chrono::duration<double>(Clock::now() - start).count();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++statuses_[status];
            slowest_ = std::max(slowest_, took);
            if ((status == 0 || status >= 500) && first_failure_.empty())
                first_failure_ = "; first failure: " + std::to_string(status) + " after " +
                                 std::to_string(took) + " s";
            --in_flight_;
            ++done_;
        }
        changed_.notify_all();
    }
    --running_;
}

Traffic::Call instance_gets(const std::string& path)
{
    return [path](int, long) { return status_of(Instance::url(path)); };
}

}  // namespace test
