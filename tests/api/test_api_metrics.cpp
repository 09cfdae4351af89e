// test_api_metrics.cpp: the Prometheus page of the stack's server (metrics_listen, and nginx's
// /metrics for 127.0.0.1 only), its counts by route and status class, its histograms, a silent
// client that must not stall the master, and counts that outlive a worker and a graceful reload
// (on a server instance of the test's own).
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "app/prefork/listen.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::Instance;
using test::poll_until;
using test::status_of;

namespace {

// A request straight to a metrics_listen address; the whole answer, "" when none came within 5 s.
std::string scrape(const std::string& spec,
                   const std::string& request = "GET /metrics HTTP/1.0\r\n\r\n")
{
    const int fd = prefork::connect_to(spec);
    std::string out;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
        pollfd p{fd, POLLIN, 0};
        char buf[16384];
        ssize_t n;
        while (poll(&p, 1, 5000) > 0 && (n = read(fd, buf, sizeof buf)) > 0)
            out.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return out;
}

std::string stack_metrics()
{
    return scrape(test::env_or("APP_METRICS_LISTEN", ""));
}

// The value of the sample line `series`, -1 when there is none.
double sample(const std::string& text, const std::string& series)
{
    const auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

std::string route(const std::string& method, const std::string& pattern)
{
    return "method=\"" + method + "\",route=\"" + pattern + "\"";
}

double requests(const std::string& text, const std::string& labels)
{
    return sample(text, "restpie_route_requests_total{" + labels + "}");
}

// A loopback port nobody listens on just now.
int free_port()
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_metrics)

BOOST_AUTO_TEST_CASE(metrics_through_nginx_for_127_0_0_1_only)
{
    const auto r = test::get("/metrics");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
    BOOST_TEST(r.body.find("# TYPE restpie_http_requests_total counter\n") != std::string::npos);
    BOOST_TEST(r.body.find("# TYPE restpie_workers_busy gauge\n") != std::string::npos);
    BOOST_TEST(r.body.find("# TYPE restpie_spool_queue gauge\n") != std::string::npos);
    BOOST_TEST(test::http_from("127.0.0.2", "GET", "/metrics").status == 403);
    const std::string direct = test::env_or("APP_METRICS_LISTEN", "");
    BOOST_TEST(scrape(direct).rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    BOOST_TEST(scrape(direct, "GET /other HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404 ", 0) == 0);
    BOOST_TEST(scrape(direct, "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404 ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(requests_count_by_route_pattern_and_status_class)
{
    const auto before = stack_metrics();
    BOOST_REQUIRE(sample(before, "restpie_http_requests_total{class=\"2xx\"}") >= 0);
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(status_of("/api/list") == 200);
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(status_of("/api/movies/98765" + std::to_string(i)) == 404);
    for (int i = 0; i < 2; ++i)
        BOOST_TEST(status_of("/api/no/such/route/" + std::to_string(i)) == 404);
    const auto after = stack_metrics();
    const auto delta = [&](const std::string& series) {
        return sample(after, series) - sample(before, series);
    };
    BOOST_TEST(delta("restpie_http_requests_total{class=\"2xx\"}") == 5);
    BOOST_TEST(delta("restpie_http_requests_total{class=\"4xx\"}") == 5);
    BOOST_TEST(delta("restpie_route_requests_total{" + route("GET", "/api/list") + "}") == 5);
    BOOST_TEST(delta("restpie_route_requests_total{" + route("GET", "/api/movies/{id}") + "}") ==
               3);
    BOOST_TEST(delta("restpie_route_requests_total{" + route("(none)", "(none)") + "}") == 2);
    BOOST_TEST(after.find("/api/movies/987650") == std::string::npos);  // patterns, not paths
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_count_is_the_route_count)
{
    BOOST_TEST(status_of("/api/list") == 200);
    const auto t = stack_metrics();
    const auto labels = route("GET", "/api/list");
    double last = 0;
    int buckets = 0;
    for (auto at = t.find("restpie_route_request_duration_seconds_bucket{" + labels);
         at != std::string::npos;
         at = t.find("restpie_route_request_duration_seconds_bucket{" + labels, at + 1)) {
        const double v = std::stod(t.substr(t.find(' ', at) + 1));
        BOOST_TEST(v >= last);
        last = v;
        ++buckets;
    }
    BOOST_TEST(buckets == 13);
    const double count = sample(t, "restpie_route_request_duration_seconds_count{" + labels + "}");
    BOOST_TEST(count >= 1);
    BOOST_TEST(count == requests(t, labels));
    BOOST_TEST(sample(t, "restpie_route_request_duration_seconds_bucket{" + labels +
                             ",le=\"+Inf\"}") == count);
    BOOST_TEST(sample(t, "restpie_route_request_duration_seconds_sum{" + labels + "}") > 0);
}

BOOST_AUTO_TEST_CASE(a_silent_client_stalls_neither_the_page_nor_the_master)
{
    const int silent = prefork::connect_to(test::env_or("APP_METRICS_LISTEN", ""));
    BOOST_REQUIRE(send(silent, "GET /met", 8, MSG_NOSIGNAL) == 8);  // and then nothing
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(test::get("/metrics").status == 200);
    BOOST_TEST(status_of("/api/list") == 200);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(took < 1.6);       // not held until the silent client is dropped (2 s)
    pollfd p{silent, POLLIN, 0};  // dropped after its 2 s
    char c;
    BOOST_TEST(poll(&p, 1, 5000) == 1);
    BOOST_TEST(read(silent, &c, 1) == 0);
    close(silent);
}

BOOST_AUTO_TEST_CASE(counts_survive_a_worker_death_and_a_graceful_reload)
{
    const std::string listen = "127.0.0.1:" + std::to_string(free_port());
    Instance inst(
        "metrics",
        {{"APP_WORKERS", "2"}, {"APP_METRICS_LISTEN", listen}, {"APP_RELOAD_ON_REBUILD", "false"}});
    const auto sleep = route("GET", "/apitest/sleep");
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    BOOST_TEST(requests(scrape(listen), sleep) == 10);

    const auto pids = inst.stats().pids();
    BOOST_REQUIRE(!pids.empty());
    BOOST_REQUIRE(kill(pids[0], SIGKILL) == 0);
    BOOST_TEST(poll_until(
        [&] { return inst.stats().num("respawns") == 1 && inst.stats().num("idle") == 2; }, 10));
    BOOST_TEST(requests(scrape(listen), sleep) == 10);

    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    BOOST_TEST(poll_until(
        [&] {
            const auto s = inst.stats();
            return s.num("reloads") == 1 && s.pids(true).empty() && s.num("idle") == 2;
        },
        20));
    auto t = scrape(listen);
    BOOST_TEST(requests(t, sleep) == 10);
    BOOST_TEST(sample(t, "restpie_reloads_total") == 1);
    BOOST_TEST(sample(t, "restpie_worker_respawns_total") >= 1);
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    t = scrape(listen);
    BOOST_TEST(requests(t, sleep) == 15);
    BOOST_TEST(sample(t, "restpie_route_request_duration_seconds_count{" + sleep + "}") == 15);
}

BOOST_AUTO_TEST_CASE(a_metrics_listen_off_the_loopback_is_refused_at_start)
{
    const auto out = test::command_output(
        "APP_METRICS_LISTEN=0.0.0.0:" + std::to_string(free_port()) +
        " APP_STATS_LISTEN= APP_LISTEN=unix:" + test::stack_run_dir() +
        "/metrics-refused.sock timeout 10 " SERVER_BINARY " 2>&1; echo exit=$?");
    BOOST_TEST(out.find("metrics_listen 0.0.0.0:") != std::string::npos, out);
    BOOST_TEST(out.find("must be a unix socket or a loopback address") != std::string::npos, out);
    BOOST_TEST(out.find("exit=1") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
