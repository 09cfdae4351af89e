// loadgen.cpp: the bounded load for the reload tests, run by them as a second process.
//   api_loadgen PATH CONNECTIONS MIN_REQUESTS MAX_SECONDS [post]
// GETs $API_BASE_URL + PATH (or POSTs a 4 KB JSON body to it) from CONNECTIONS threads, one
// connection per request, and prints
// "progress <done> <failed>" every 100 ms. It stops once its stdin is closed and MIN_REQUESTS are
// done, or at 50 * MIN_REQUESTS requests, or after MAX_SECONDS, whichever comes first, and ends
// with "total <done> <failed> <first error>". It only ever talks to 127.0.0.1.
// $LOADGEN_BODY replaces the POST body, and $LOADGEN_COOKIE is sent as the Cookie header (the
// booted-server test, tests/server/run.sh, posts movies as an editor).
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

    std::atomic<long> started{0}, done{0}, failed{0};
    std::atomic<bool> released{false}, stop{false};
    std::mutex error_mutex;
    std::string first_error;
    auto worker = [&] {
        while (!stop && started++ < max_requests) {
            std::string error;
            try {
                const auto r = test::http(post ? "POST" : "GET", path, post ? body : "", headers);
                if (r.status < 200 || r.status > 299)
                    error = "status " + std::to_string(r.status) + " " + r.body.substr(0, 80);
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (!error.empty()) {
                ++failed;
                std::lock_guard<std::mutex> lock(error_mutex);
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
    std::printf("total %ld %ld %s\n", done.load(), failed.load(), first_error.c_str());
    return 0;
}
