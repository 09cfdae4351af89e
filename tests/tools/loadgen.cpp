// loadgen.cpp: the bounded load for the reload tests, run by them as a second process.
//   api_loadgen PATH CONNECTIONS MIN_REQUESTS MAX_SECONDS [post]
// GETs $API_BASE_URL + PATH (or POSTs a 4 KB JSON body to it) from CONNECTIONS threads, one
// connection per request, and prints
// "progress <done> <failed>" every 100 ms. It stops once its stdin is closed and MIN_REQUESTS are
// done, or at 50 * MIN_REQUESTS requests, or after MAX_SECONDS, whichever comes first, and ends
// with "codes sent=N 2xx=N 3xx=N 4xx=N 5xx=N conn_errors=N [<status>=N ...]" (every non-2xx
// status on its own) and, last, "total <done> <failed> <first error>". It only ever talks to
// 127.0.0.1 (the cluster test runs it inside a network namespace, whose loopback is its own).
// $LOADGEN_BODY replaces the POST body, and $LOADGEN_COOKIE is sent as the Cookie header (the
// booted-server test, tests/server/run.sh, posts movies as an editor). $LOADGEN_LOG names a file
// that gets one line per request, "<start ms> <end ms> <status, 0: no reply> <body, 100 bytes>"
// (epoch milliseconds), for a test that times an outage or checks what was written.
// $LOADGEN_RATE caps the requests started per second (all threads together; default: no cap).
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/api/http.h"

int main(int argc, char** argv)
{
    if (argc != 5 && !(argc == 6 && std::string(argv[5]) == "post")) {
        std::fprintf(stderr,
                     "usage: api_loadgen PATH CONNECTIONS MIN_REQUESTS MAX_SECONDS [post]\n");
        return 2;
    }
    if (test::base_host() != "127.0.0.1") {
        std::fprintf(stderr, "api_loadgen: only 127.0.0.1, not %s\n", test::base_host().c_str());
        return 2;
    }
    const std::string path = argv[1];
    const bool post = argc == 6;
    const std::string body =
        test::env_or("LOADGEN_BODY", "{\"pad\":\"" + std::string(4096, 'x') + "\"}");
    std::map<std::string, std::string> headers;
    if (const auto cookie = test::env_or("LOADGEN_COOKIE", ""); !cookie.empty())
        headers["Cookie"] = cookie;
    if (post)
        headers["Content-Type"] = "application/json";
    const int connections = std::atoi(argv[2]);
    const long min_requests = std::atol(argv[3]), max_requests = 50 * min_requests;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[4]));

    const double rate = std::atof(test::env_or("LOADGEN_RATE", "0").c_str());
    const auto t0 = std::chrono::steady_clock::now();
    std::atomic<long> started{0}, done{0}, failed{0};
    std::atomic<bool> released{false}, stop{false};
    std::mutex error_mutex;  // first_error, by_status, log
    std::string first_error;
    std::map<int, long> by_status;  // 0: no reply (a connection error)
    FILE* log = nullptr;
    if (const auto name = test::env_or("LOADGEN_LOG", "");
        !name.empty() && !(log = std::fopen(name.c_str(), "w"))) {
        std::fprintf(stderr, "api_loadgen: cannot write %s\n", name.c_str());
        return 2;
    }
    const auto epoch_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    auto worker = [&] {
        for (long n; !stop && (n = started++) < max_requests;) {
            if (rate > 0)  // request n starts n / rate seconds after the first
                std::this_thread::sleep_until(t0 +
                                              std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::duration<double>(n / rate)));
            std::string error, reply;
            int status = 0;
            const auto start = epoch_ms();
            try {
                const auto r = test::http(post ? "POST" : "GET", path, post ? body : "", headers);
                status = r.status;
                reply = r.body.substr(0, 100);
                if (r.status < 200 || r.status > 299)
                    error = "status " + std::to_string(r.status) + " " + r.body.substr(0, 80);
            } catch (const std::exception& e) {
                error = e.what();
            }
            std::lock_guard<std::mutex> lock(error_mutex);
            ++by_status[status];
            if (log) {
                for (auto& c : reply)
                    if (c == '\n' || c == '\r')
                        c = ' ';
                std::fprintf(log, "%lld %lld %d %s\n", static_cast<long long>(start),
                             static_cast<long long>(epoch_ms()), status, reply.c_str());
            }
            if (!error.empty()) {
                ++failed;
                if (first_error.empty())
                    first_error = error;
            }
            ++done;
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i)
        threads.emplace_back(worker);
    while (!stop) {
        pollfd p{0, POLLIN, 0};
        if (!released && poll(&p, 1, 100) > 0) {
            char c;
            released = read(0, &c, 1) <= 0;  // EOF: the test is done with us
        } else if (released) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::printf("progress %ld %ld\n", done.load(), failed.load());
        std::fflush(stdout);
        stop = (released && done >= min_requests) || done >= max_requests ||
               std::chrono::steady_clock::now() >= deadline;
    }
    for (auto& t : threads)
        t.join();
    if (log)
        std::fclose(log);
    long classes[6] = {};  // no reply, 1xx .. 5xx
    for (const auto& [status, n] : by_status)
        classes[status >= 100 && status < 600 ? status / 100 : 0] += n;
    std::printf("codes sent=%ld 2xx=%ld 3xx=%ld 4xx=%ld 5xx=%ld conn_errors=%ld", done.load(),
                classes[2], classes[3], classes[4], classes[5], classes[0]);
    for (const auto& [status, n] : by_status)
        if (status != 0 && (status < 200 || status > 299))
            std::printf(" %d=%ld", status, n);
    std::printf("\n");
    std::printf("total %ld %ld %s\n", done.load(), failed.load(), first_error.c_str());
    return 0;
}
