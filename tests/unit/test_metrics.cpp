// test_metrics.cpp: the Prometheus text, the shared request table and the HTTP reply, without a
// server.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cmath>
#include <string>

#include "app/core/errors.h"
#include "app/prefork/metrics.h"
#include "app/prefork/metrics_server.h"

namespace {

// The value of the sample line that starts with `series`, -1 when there is none.
double sample(const std::string& text, const std::string& series)
{
    const auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

const std::string kMovie = "method=\"GET\",route=\"/api/movies/{id}\"";

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(request_families_have_help_type_and_cumulative_buckets)
{
    prefork::RequestCounts c;
    c.classes = {0, 7, 0, 2, 1};
    prefork::RouteCounts r;
    r.method = "GET";
    r.route = "/api/movies/{id}";
    r.buckets[0] = 2;   // <= 1 ms
    r.buckets[2] = 3;   // <= 10 ms
    r.buckets[12] = 1;  // over 10 s
    r.sum_seconds = 10.5;
    c.routes = {r};
    const std::string t = prefork::requests_text(c);
    BOOST_TEST(t.find("# HELP restpie_http_requests_total ") != std::string::npos);
    BOOST_TEST(t.find("# TYPE restpie_http_requests_total counter\n") != std::string::npos);
    BOOST_TEST(t.find("# TYPE restpie_route_request_duration_seconds histogram\n") !=
               std::string::npos);
    BOOST_TEST(sample(t, "restpie_http_requests_total{class=\"2xx\"}") == 7);
    BOOST_TEST(sample(t, "restpie_http_requests_total{class=\"5xx\"}") == 1);
    BOOST_TEST(sample(t, "restpie_route_requests_total{" + kMovie + "}") == 6);
    const std::string b = "restpie_route_request_duration_seconds_bucket{" + kMovie + ",le=";
    BOOST_TEST(sample(t, b + "\"0.001\"}") == 2);
    BOOST_TEST(sample(t, b + "\"0.005\"}") == 2);
    BOOST_TEST(sample(t, b + "\"0.01\"}") == 5);
    BOOST_TEST(sample(t, b + "\"2.5\"}") == 5);
    BOOST_TEST(sample(t, b + "\"10\"}") == 5);
    BOOST_TEST(sample(t, b + "\"+Inf\"}") == 6);
    BOOST_TEST(sample(t, "restpie_route_request_duration_seconds_count{" + kMovie + "}") == 6);
    BOOST_TEST(sample(t, "restpie_route_request_duration_seconds_sum{" + kMovie + "}") == 10.5);
    BOOST_TEST(t.back() == '\n');
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped)
{
    BOOST_TEST(prefork::label_value("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
}

BOOST_AUTO_TEST_CASE(master_families)
{
    prefork::MasterCounters c;
    c.reloads = 2;
    c.respawns = 3;
    c.harakiri = 1;
    const std::string t = prefork::master_text(c, 1, 3);
    BOOST_TEST(t.find("# TYPE restpie_workers_busy gauge\nrestpie_workers_busy 1\n") !=
               std::string::npos);
    BOOST_TEST(sample(t, "restpie_workers_idle") == 3);
    BOOST_TEST(sample(t, "restpie_reloads_total") == 2);
    BOOST_TEST(sample(t, "restpie_worker_respawns_total") == 3);
    BOOST_TEST(sample(t, "restpie_harakiri_total") == 1);
}

BOOST_AUTO_TEST_CASE(table_counts_by_slot_and_keeps_slots_across_a_rebind)
{
    auto table = prefork::MetricsTable::create();
    const std::vector<std::pair<std::string, std::string>> v1{{"GET", "/a"}, {"POST", "/a"}};
    BOOST_TEST(table.bind(v1) == 0);
    const auto slots = table.slots_for(v1);
    BOOST_TEST(slots[0] >= 0);
    BOOST_TEST(slots[1] >= 0);
    table.record(slots[0], 200, 0.003);
    table.record(slots[0], 404, 0.003);
    table.record(slots[1], 500, 20);
    table.record(-1, 302, 0.1);  // no route: its class only
    // A reload's build drops POST /a and adds GET /b: old slots stay where they were.
    const std::vector<std::pair<std::string, std::string>> v2{{"GET", "/b"}, {"GET", "/a"}};
    BOOST_TEST(table.bind(v2) == 0);
    BOOST_TEST(table.slots_for(v2)[1] == slots[0]);
    BOOST_TEST(table.slots_for(v1) == slots);
    const auto c = table.read();
    BOOST_TEST(c.classes[1] == 1u);
    BOOST_TEST(c.classes[2] == 1u);
    BOOST_TEST(c.classes[3] == 1u);
    BOOST_TEST(c.classes[4] == 1u);
    BOOST_REQUIRE(c.routes.size() == 4u);  // "(none)", GET /a, POST /a, GET /b
    BOOST_TEST(c.routes[0].route == "(none)");
    const auto& get_a = c.routes[static_cast<std::size_t>(slots[0])];
    BOOST_TEST(get_a.route == "/a");
    BOOST_TEST(get_a.count() == 2u);
    BOOST_TEST(get_a.buckets[1] == 2u);  // 3 ms: le 0.005
    BOOST_TEST(std::abs(get_a.sum_seconds - 0.006) < 1e-9);
    BOOST_TEST(c.routes[static_cast<std::size_t>(slots[1])].buckets[12] == 1u);  // +Inf only
    // The same memory seen through another mapping, as a worker or the next image sees it.
    prefork::MetricsTable other(dup(table.fd()));
    BOOST_TEST(other.read().routes[static_cast<std::size_t>(slots[0])].count() == 2u);
}

BOOST_AUTO_TEST_CASE(http_reply_is_the_text_for_get_metrics_and_404_for_the_rest)
{
    const auto text = [] { return std::string("restpie_x 1\n"); };
    const auto ok = prefork::metrics_reply("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", text);
    BOOST_TEST(ok.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    BOOST_TEST(ok.find("\r\nContent-Type: text/plain; version=0.0.4") != std::string::npos);
    BOOST_TEST(ok.find("\r\nContent-Length: 12\r\n") != std::string::npos);
    BOOST_TEST(ok.substr(ok.size() - 12) == "restpie_x 1\n");
    BOOST_TEST(
        prefork::metrics_reply("GET /metrics?x=1 HTTP/1.0\n\n", text).rfind("HTTP/1.0 200", 0) ==
        0);
    const auto head = prefork::metrics_reply("HEAD /metrics HTTP/1.0\r\n\r\n", text);
    BOOST_TEST(head.substr(head.size() - 4) == "\r\n\r\n");
    for (const char* bad : {"GET / HTTP/1.0\r\n\r\n", "POST /metrics HTTP/1.0\r\n\r\n",
                            "GET /metricsx HTTP/1.0\r\n\r\n", "garbage\r\n\r\n", ""})
        BOOST_TEST(prefork::metrics_reply(bad, text).rfind("HTTP/1.0 404 Not Found\r\n", 0) == 0);
}

BOOST_AUTO_TEST_CASE(metrics_listen_must_be_on_loopback)
{
    BOOST_CHECK_NO_THROW(prefork::require_local("metrics_listen", "127.0.0.1:9117"));
    BOOST_CHECK_NO_THROW(prefork::require_local("metrics_listen", ""));
    BOOST_CHECK_EXCEPTION(
        prefork::MetricsServer("0.0.0.0:9117"), core::ConfigError, [](const core::ConfigError& e) {
            return std::string(e.what()).find("metrics_listen 0.0.0.0:9117: must be") == 0;
        });
}

BOOST_AUTO_TEST_SUITE_END()
