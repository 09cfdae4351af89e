// test_red.cpp: Redis failing over under Sentinel, with red configured with the three Sentinels
// (redis_sentinels) and no redis_host: a forced failover (SENTINEL FAILOVER), then the new
// master killed. Requests during each switch get 503s, never a 500, and every request after it
// reaches the new master; a key written before is still there (replicated), and cron's
// run_once_per guard answers as on one server. A write that a replica refuses (READONLY) is a
// 503 too.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

#include "app/red/red.h"
#include "app/tasks/cron.h"
#include "tests/failover/failover.h"
#include "tests/support.h"

namespace {

using failover::servers;

struct RedisServers {
    RedisServers() { servers("redis-up"); }
    ~RedisServers()
    {
        red::reset_connection();
        servers("redis-down");
    }
};

void configure(core::Config& c)
{
    const auto p = failover::ports();
    std::vector<std::string> sentinels;
    for (int port : p.sentinel)
        sentinels.push_back("127.0.0.1:" + std::to_string(port));
    c.set("redis_host", std::string());
    c.set("redis_sentinels", sentinels);
    c.set("redis_master_name", std::string("restpie"));
    c.set("redis_password", std::string());
    c.set("redis_connect_timeout_ms", std::int64_t{300});
    c.set("redis_timeout_ms", std::int64_t{500});
}

// The port of the node red is connected to, as it reports it.
int connected_port()
{
    const auto info = red::command({"INFO", "server"}).string().value_or("");
    const auto at = info.find("tcp_port:");
    return at == std::string::npos ? 0 : std::stoi(info.substr(at + 9));
}

// Waits until the master's writes so far reached a replica (WAIT, each shorter than
// redis_timeout_ms): the last writes before a failover may be lost otherwise. After a failover
// the Sentinels make the old master a replica only some 10 s later.
bool replicated()
{
    return test::poll_until([] { return red::command({"WAIT", "1", "300"}).integer() >= 1; }, 30);
}

int count_once()
{
    return failover::status_of([] { red::incr("failover:count"); });
}

// Requests every 50 ms until `port` is the master red reaches and a request succeeded there
// (at most `seconds`); adds the statuses to seen.
bool back_on(int port, std::map<int, int>& seen, double seconds)
{
    return test::poll_until(
        [&] {
            const int status = count_once();
            ++seen[status];
            return status == 200 && connected_port() == port;
        },
        seconds);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_failover)

BOOST_AUTO_TEST_CASE(every_request_reaches_the_master_the_sentinels_name_and_none_is_a_500)
{
    RedisServers redis;
    failover::ConfigScope scope(configure);
    red::set_endpoint("", 0);  // the config: the Sentinels
    const auto p = failover::ports();
    BOOST_TEST_REQUIRE(count_once() == 200);
    BOOST_TEST(connected_port() == p.master);
    red::set_keyval("failover:session", "{\"uid\": 7}", 600);
    BOOST_TEST(tasks::run_once_per("failover-job", 3600));
    BOOST_TEST_REQUIRE(replicated());

    // A forced failover: the master is demoted to a replica (writes to it: READONLY).
    servers("redis-failover");
    std::map<int, int> seen;
    BOOST_TEST(back_on(p.replica, seen, 20), failover::describe(seen));
    BOOST_TEST(red::get_keyval("failover:session").value_or("") == "{\"uid\": 7}");
    BOOST_TEST(!tasks::run_once_per("failover-job", 3600));  // the guard's key moved with it
    BOOST_TEST_MESSAGE("redis SENTINEL FAILOVER: statuses " << failover::describe(seen));

    // The new master killed: the Sentinels promote the old one (a replica now) after 1 s.
    BOOST_TEST_REQUIRE(replicated());
    servers("redis-kill replica");
    std::map<int, int> seen2;
    BOOST_TEST(back_on(p.master, seen2, 30), failover::describe(seen2));
    BOOST_TEST(red::get_keyval("failover:session").value_or("") == "{\"uid\": 7}");
    BOOST_TEST_MESSAGE("redis master killed: statuses " << failover::describe(seen2));
    for (const auto* s : {&seen, &seen2})
        for (const auto& [status, count] : *s)
            BOOST_TEST((status == 200 || status == 503), status << " x " << count);
}

BOOST_AUTO_TEST_CASE(a_write_refused_as_readonly_is_a_503_not_a_500)
{
    RedisServers redis;
    failover::ConfigScope scope(configure);
    red::set_endpoint("127.0.0.1", failover::ports().replica);  // as a demoted master would be
    BOOST_TEST(count_once() == 503);
    BOOST_TEST(failover::status_of([] { red::get_keyval("failover:count"); }, "GET") == 200);
    BOOST_TEST(count_once() == 503);  // a reused connection: tried once more, still a replica
    red::set_endpoint("", 0);
    BOOST_TEST(count_once() == 200);  // the Sentinels name the master
}

BOOST_AUTO_TEST_SUITE_END()
