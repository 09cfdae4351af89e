// traffic.h: a bounded client load from threads of the test process, for the kept-connection
// tests (test_api_keepconn.cpp): counts every reply by status, keeps the slowest, and can hold
// the clients back for a moment. (api_loadgen is the load from a second process.)
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test {

// Client threads, each sending requests one after the other (a fresh HTTP connection each; nginx
// keeps its own to the instance) until finish(), `max_each` requests or `max_seconds`, whichever
// comes first. `call(thread, n)` sends one and returns its status (0: no reply).
class Traffic {
public:
    using Call = std::function<int(int thread, long n)>;
    Traffic(int threads, long max_each, double max_seconds, Call call);
    ~Traffic() { finish(); }
    Traffic(const Traffic&) = delete;
    Traffic& operator=(const Traffic&) = delete;

    long done() const { return done_; }
    // Waits up to `seconds` until `n` requests are done (or every thread has ended); how many are.
    long wait_for(long n, double seconds);
    // Holds every thread before its next request; true once none is in flight (within `seconds`).
    bool pause(double seconds = 10);
    void resume();
    // Stops the threads after their request in hand (or lets them run to their end: `all`).
    void finish(bool all = false);

    // After finish():
    long count(int status) const;
    long failed(const std::function<bool(int)>& ok) const;  // replies whose status is not ok
    double slowest() const { return slowest_; }
    std::string summary() const;  // "200 x 1234, 502 x 1, slowest 0.01 s; first failure: ..."

private:
    void run(int thread, long max_each);

    Call call_;
    std::chrono::steady_clock::time_point deadline_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool paused_ = false;
    int in_flight_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> running_{0};
    std::atomic<long> done_{0};
    std::map<int, long> statuses_;
    double slowest_ = 0;
    std::string first_failure_;
};

// GETs of `path` (under /testinstance/) through nginx.
Traffic::Call instance_gets(const std::string& path);

}  // namespace test
