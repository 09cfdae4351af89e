// test_red.cpp: the red module against a real Redis (the config's, e.g. APP_REDIS_PORT=63799); the
// outage cases start and stop a second redis-server of their own on the stack's Redis port + 6
// (63797 on test stack 0), so test stacks of other TEST_SLOTs never meet.
#include "app/red/red.h"

#include <chrono>
#include <cstdlib>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <hiredis/hiredis.h>  // only to see whether the spare server listens

#include "app/core/config.h"
#include "app/core/errors.h"

namespace {

using Clock = std::chrono::steady_clock;
const std::string kPrefix = "test:red:";
// The stack's port + 6: free in every slot's range (deploy/local.sh gives slot N 63791 + 10 N).
const int kSparePort = [] {
    const char* p = std::getenv("APP_REDIS_PORT");
    return (p && *p ? std::atoi(p) : 63791) + 6;
}();

double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

void sleep_ms(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::int64_t ttl(const std::string& key)
{
    return red::command({"TTL", key}).integer();
}
std::int64_t client_id()
{
    return red::command({"CLIENT", "ID"}).integer();
}

// Runs f in a forked child (which must open its own connection) and returns its exit status.
template <typename F>
pid_t spawn(F f)
{
    const pid_t pid = fork();
    if (pid == 0) {
        int rc = 3;
        try {
            rc = f();
        } catch (...) {
            rc = 2;
        }
        _exit(rc);
    }
    BOOST_REQUIRE(pid > 0);
    return pid;
}

int exit_status(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

// An error reply: a ReplyError carrying Redis's message, not an outage.
auto redis_error(const std::string& part)
{
    return [part](const red::ReplyError& e) {
        return std::string(e.what()).find(part) != std::string::npos;
    };
}

// Every case starts on the configured Redis without test keys and leaves none behind.
struct RedFixture {
    RedFixture()
    {
        red::set_endpoint("", 0);
        cleanup();
    }
    ~RedFixture()
    {
        red::set_endpoint("", 0);
        try {
            cleanup();
        } catch (const std::exception& e) {
            BOOST_TEST_MESSAGE("cleanup failed: " << e.what());
        }
    }
    static void cleanup()
    {
        for (const auto& key : red::command({"KEYS", kPrefix + "*"}).strings())
            red::command({"DEL", key});
    }
};

// A redis-server of the test's own, so that a case can stop and restart Redis under the module.
// It leaves the module's connection alone: the case points the module at it with set_endpoint.
class SpareRedis {
public:
    ~SpareRedis() { stop(); }
    void start(const std::string& password = "")
    {
        pid_ = fork();
        if (pid_ == 0) {
            const int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            const auto port = std::to_string(kSparePort);
            execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--requirepass", password.c_str(),
                   static_cast<char*>(nullptr));
            _exit(127);
        }
        BOOST_REQUIRE(pid_ > 0);
        const auto t0 = Clock::now();
        while (seconds_since(t0) < 10) {
            redisContext* c = redisConnect("127.0.0.1", kSparePort);  // listening means ready
            const bool up = c && !c->err;
            redisFree(c);
            if (up)
                return;
            int status;
            BOOST_REQUIRE_MESSAGE(waitpid(pid_, &status, WNOHANG) == 0,
                                  "redis-server on port " << kSparePort << " exited");
            sleep_ms(50);
        }
        BOOST_FAIL("redis-server on port " << kSparePort << " did not start");
    }
    void stop()
    {
        if (pid_ <= 0)
            return;
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

// Replaces the process config for one case (here: redis_password) and puts the original back.
struct ConfigOverride {
    const core::Config saved = core::config();
    ConfigOverride(const std::string& key, core::Config::Value v)
    {
        auto c = saved;
        c.set(key, std::move(v));
        core::set_config(std::move(c));
    }
    ~ConfigOverride() { core::set_config(saved); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(red, RedFixture)

BOOST_AUTO_TEST_CASE(set_get_delete)
{
    const auto k = kPrefix + "kv";
    BOOST_TEST(!red::get_keyval(k).has_value());
    red::set_keyval(k, R"({"a":1})");
    BOOST_TEST(red::get_keyval(k).value() == R"({"a":1})");
    BOOST_TEST(ttl(k) == -1);  // no expiry
    red::set_keyval(k, "[2]");
    BOOST_TEST(red::get_keyval(k).value() == "[2]");
    BOOST_TEST(red::delete_key(k));
    BOOST_TEST(!red::delete_key(k));
    BOOST_TEST(!red::get_keyval(k).has_value());
}

BOOST_AUTO_TEST_CASE(set_with_expiry)
{
    const auto k = kPrefix + "exp";
    red::set_keyval(k, "1", 100);
    BOOST_TEST(ttl(k) > 98);
    BOOST_TEST(ttl(k) <= 100);
    red::set_keyval(k, "2");  // a plain set clears the expiry
    BOOST_TEST(ttl(k) == -1);
    red::set_keyval(k, "3", 1);
    BOOST_TEST(red::get_keyval(k).value() == "3");
    sleep_ms(1200);
    BOOST_TEST(!red::get_keyval(k).has_value());
}

BOOST_AUTO_TEST_CASE(expire_key)
{
    const auto k = kPrefix + "ttl";
    BOOST_TEST(!red::expire(k, 10));
    red::set_keyval(k, "true");
    BOOST_TEST(red::expire(k, 50));
    BOOST_TEST(ttl(k) > 48);
    BOOST_TEST(ttl(k) <= 50);
    BOOST_TEST(red::expire(k, 0));  // deletes at once
    BOOST_TEST(!red::get_keyval(k).has_value());
}

BOOST_AUTO_TEST_CASE(values_round_trip_byte_for_byte)
{
    const std::vector<std::string> values{
        R"("two  spaces, \"double\" and 'single' quotes")",
        "\"h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001F600\"",  // raw UTF-8
        R"("escaped \u00e9 and a NUL \u0000 here")",
        R"({"a": [1, 2.5, null, true], "b": {"c": "d e"}})",
        "  \"padded\"  \n",
    };
    const std::string k = kPrefix + std::string("key with space\0and NUL", 22);  // keys too
    const auto list = kPrefix + "values";
    for (const auto& v : values) {
        red::set_keyval(k, v);
        BOOST_TEST(red::get_keyval(k).value() == v);
        BOOST_TEST(red::get_set(k, v).value() == v);
        red::list_append(list, v);
    }
    BOOST_TEST(red::list_fetch(list) == values, boost::test_tools::per_element());
    BOOST_TEST(red::list_peek(list).value() == values.front());
    BOOST_TEST(red::list_pop(list).value() == values.front());
    BOOST_TEST(red::delete_key(k));

    // Raw bytes (a NUL is not JSON, so only the lower level writes one) read back intact.
    const std::string raw("\"a\0b\xff c\"", 9);
    red::command({"SET", k, raw});
    BOOST_TEST(red::get_keyval(k).value() == raw);
    red::command({"RPUSH", list, raw});
    BOOST_TEST(red::list_fetch(list).back() == raw);
}

BOOST_AUTO_TEST_CASE(values_must_be_json)
{
    const auto k = kPrefix + "notjson";
    const std::vector<std::string> bad{"", "hello", "{\"a\":", std::string("\"a\0b\"", 5), "1 2"};
    for (const auto& v : bad) {
        BOOST_CHECK_THROW(red::set_keyval(k, v), std::invalid_argument);
        BOOST_CHECK_THROW(red::list_append(k, v), std::invalid_argument);
        BOOST_CHECK_THROW(red::get_set(k, v), std::invalid_argument);
    }
    BOOST_TEST(red::command({"EXISTS", k}).integer() == 0);
}

BOOST_AUTO_TEST_CASE(lists_are_fifo)
{
    const auto l = kPrefix + "fifo";
    BOOST_TEST(red::list_length(l) == 0);
    BOOST_TEST(red::list_fetch(l).empty());
    BOOST_TEST(!red::list_peek(l).has_value());
    BOOST_TEST(!red::list_pop(l).has_value());
    for (int i = 1; i <= 4; ++i)
        red::list_append(l, std::to_string(i));
    BOOST_TEST(red::list_length(l) == 4);
    BOOST_TEST(red::list_peek(l).value() == "1");
    BOOST_TEST(red::list_length(l) == 4);  // peek does not remove
    BOOST_TEST(red::list_pop(l).value() == "1");
    BOOST_TEST(red::list_pop(l, 0).value() == "2");
    BOOST_TEST(red::list_fetch(l) == (std::vector<std::string>{"3", "4"}),
               boost::test_tools::per_element());
    BOOST_TEST(red::list_length(l) == 2);
}

BOOST_AUTO_TEST_CASE(list_max_size_drops_the_oldest)
{
    const auto l = kPrefix + "capped";
    for (int i = 1; i <= 5; ++i)
        red::list_append(l, std::to_string(i), 3);
    BOOST_TEST(red::list_fetch(l) == (std::vector<std::string>{"3", "4", "5"}),
               boost::test_tools::per_element());
    red::list_append(l, "6");  // no cap this time
    BOOST_TEST(red::list_length(l) == 4);
    red::list_append(l, "7", 1);
    BOOST_TEST(red::list_fetch(l) == std::vector<std::string>{"7"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pop_on_empty_list)
{
    const auto l = kPrefix + "empty";
    auto t0 = Clock::now();
    BOOST_TEST(!red::list_pop(l).has_value());
    BOOST_TEST(!red::list_pop(l, 0).has_value());  // 0 is not "forever"
    BOOST_TEST(seconds_since(t0) < 1.5);  // below the 2 s socket timeout a "forever" would hit

    t0 = Clock::now();
    BOOST_TEST(!red::list_pop(l, 1).has_value());
    BOOST_TEST(seconds_since(t0) > 0.9);
    BOOST_TEST(seconds_since(t0) < 4.0);  // not the wait for a reply forever; room for load
}

BOOST_AUTO_TEST_CASE(blocking_pop_gets_a_later_item)
{
    const auto l = kPrefix + "later";
    red::list_append(l, "\"first\"");
    BOOST_TEST(red::list_pop(l, 5).value() == "\"first\"");  // no wait when there is one

    const auto t0 = Clock::now();
    const pid_t child = spawn([&] {
        sleep_ms(300);
        red::list_append(l, "\"late\"");
        return 0;
    });
    const auto got = red::list_pop(l, 5);
    const double took = seconds_since(t0);
    BOOST_TEST(exit_status(child) == 0);
    BOOST_TEST(got.value_or("none") == "\"late\"");
    BOOST_TEST(took > 0.25);
    BOOST_TEST(took < 4.0);  // long before the 5 s the pop would wait; room for a loaded machine
}

BOOST_AUTO_TEST_CASE(blocking_pop_outwaits_the_socket_timeout)
{
    const auto l = kPrefix + "long";
    const auto timeout_ms = core::config().integer("redis_timeout_ms");
    const int wait = static_cast<int>(timeout_ms / 1000 + 1);  // longer than the socket timeout
    auto t0 = Clock::now();
    BOOST_TEST(!red::list_pop(l, wait).has_value());  // a timeout, not Unavailable
    BOOST_TEST(seconds_since(t0) > wait - 0.1);
    BOOST_TEST(seconds_since(t0) < wait + 3.0);

    // The socket timeout is back to normal: a command blocking longer is cut off after it.
    const auto id = client_id();
    t0 = Clock::now();
    BOOST_CHECK_THROW(red::command({"BLPOP", l, std::to_string(wait + 5)}), red::Unavailable);
    BOOST_TEST(seconds_since(t0) > timeout_ms / 1000.0 - 0.1);
    BOOST_TEST(seconds_since(t0) < timeout_ms / 1000.0 + 3.0);  // not the BLPOP's wait + 5 s
    BOOST_TEST(client_id() != id);  // the timed-out connection was replaced
}

BOOST_AUTO_TEST_CASE(incr_is_atomic)
{
    const auto k = kPrefix + "counter";
    BOOST_TEST(red::incr(k) == 1);
    BOOST_TEST(red::incr(k, 5) == 6);
    BOOST_TEST(red::incr(k, -2) == 4);
    red::delete_key(k);

    const int kChildren = 4, kEach = 250;
    std::vector<pid_t> children;
    for (int c = 0; c < kChildren; ++c)
        children.push_back(spawn([&] {
            for (int i = 0; i < kEach; ++i)
                red::incr(k);
            return 0;
        }));
    for (const auto pid : children)
        BOOST_TEST(exit_status(pid) == 0);
    BOOST_TEST(red::get_keyval(k).value() == std::to_string(kChildren * kEach));
}

BOOST_AUTO_TEST_CASE(get_set_returns_the_old_value)
{
    const auto k = kPrefix + "getset";
    BOOST_TEST(!red::get_set(k, R"("day 1")").has_value());
    BOOST_TEST(red::get_keyval(k).value() == R"("day 1")");
    BOOST_TEST(red::get_set(k, R"("day 2")", 100).value() == R"("day 1")");
    BOOST_TEST(ttl(k) > 98);
    BOOST_TEST(red::get_set(k, R"("day 3")").value() == R"("day 2")");
    BOOST_TEST(ttl(k) == -1);  // like set_keyval, no expiry clears it
    red::delete_key(k);
    BOOST_TEST(!red::get_set(k, "0", 100).has_value());  // the MULTI form on a missing key
    BOOST_TEST(red::get_keyval(k).value() == "0");
}

BOOST_AUTO_TEST_CASE(error_replies_are_reply_errors)
{
    const auto s = kPrefix + "string", l = kPrefix + "list";
    red::set_keyval(s, R"("text")");
    red::list_append(l, "1");
    const auto id = client_id();
    BOOST_CHECK_EXCEPTION(red::incr(s), red::ReplyError, redis_error("not an integer"));
    BOOST_CHECK_EXCEPTION(red::list_append(s, "1"), red::ReplyError, redis_error("WRONGTYPE"));
    BOOST_CHECK_EXCEPTION(red::list_append(s, "1", 5), red::ReplyError, redis_error("WRONGTYPE"));
    BOOST_CHECK_EXCEPTION(red::get_keyval(l), red::ReplyError, redis_error("WRONGTYPE"));
    BOOST_CHECK_EXCEPTION(red::get_set(l, "2", 10), red::ReplyError, redis_error("WRONGTYPE"));
    BOOST_CHECK_EXCEPTION(red::command({"NOSUCHCOMMAND"}), red::ReplyError,
                          redis_error("unknown command"));
    BOOST_TEST(client_id() == id);  // an error reply leaves the connection in use
    BOOST_TEST(red::list_fetch(l) == std::vector<std::string>{"1"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pipeline_runs_in_order)
{
    const auto k = kPrefix + "pipe";
    BOOST_TEST(red::pipeline({}).empty());
    const auto r = red::pipeline({{"SET", k, "10"}, {"INCRBY", k, "5"}, {"GET", k}});
    BOOST_REQUIRE(r.size() == 3u);
    BOOST_TEST(r[0].status() == "OK");
    BOOST_TEST(r[1].integer() == 15);
    BOOST_TEST(r[2].string().value() == "15");
    BOOST_CHECK_THROW(r[1].string(), red::ReplyError);  // read as what it is, or not at all
    // An error in the middle is thrown after every reply was read: the connection stays in step.
    BOOST_CHECK_EXCEPTION(red::pipeline({{"INCR", k}, {"LPUSH", k, "x"}, {"INCR", k}}),
                          red::ReplyError, redis_error("WRONGTYPE"));
    BOOST_TEST(red::get_keyval(k).value() == "17");
}

BOOST_AUTO_TEST_CASE(connection_per_process)
{
    const auto id = client_id();
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    const pid_t child = spawn([&] {
        const std::int64_t child_id = client_id();  // not the parent's socket
        return write(fds[1], &child_id, sizeof child_id) == sizeof child_id ? 0 : 1;
    });
    std::int64_t child_id = 0;
    BOOST_TEST(read(fds[0], &child_id, sizeof child_id) == static_cast<ssize_t>(sizeof child_id));
    close(fds[0]);
    close(fds[1]);
    BOOST_TEST(exit_status(child) == 0);
    BOOST_TEST(child_id != 0);
    BOOST_TEST(child_id != id);
    BOOST_TEST(client_id() == id);  // the parent's connection is untouched

    red::reset_connection();
    BOOST_TEST(client_id() != id);
}

BOOST_AUTO_TEST_CASE(redis_down_fails_fast_and_recovers)
{
    const auto k = kPrefix + "outage";
    red::set_endpoint("127.0.0.1", kSparePort);  // nothing listens there yet
    auto t0 = Clock::now();
    BOOST_CHECK_THROW(red::get_keyval(k), red::Unavailable);
    BOOST_CHECK_THROW(red::set_keyval(k, "1"), red::Unavailable);
    BOOST_CHECK_THROW(red::list_append(k, "1", 3), red::Unavailable);
    BOOST_CHECK_THROW(red::list_pop(k, 5), red::Unavailable);
    BOOST_CHECK_THROW(red::incr(k), red::Unavailable);
    BOOST_TEST(seconds_since(t0) < 3);

    SpareRedis spare;
    spare.start();
    red::set_keyval(k, "1");  // the next call after the failures connects
    BOOST_TEST(red::get_keyval(k).value() == "1");

    spare.stop();
    t0 = Clock::now();
    BOOST_CHECK_THROW(red::get_keyval(k), red::Unavailable);
    BOOST_CHECK_THROW(red::incr(k), red::Unavailable);
    BOOST_TEST(seconds_since(t0) < 3);

    spare.start();  // a new server, without the data; the module works again by itself
    BOOST_TEST(!red::get_keyval(k).has_value());
    red::set_keyval(k, "2");

    // A restart between two calls leaves a stale connection: the call after it must still succeed
    // (retried once on a new connection), not fail the first request after every restart.
    spare.stop();
    spare.start();
    BOOST_TEST(!red::get_keyval(k).has_value());
}

BOOST_AUTO_TEST_CASE(auth_with_redis_password)
{
    SpareRedis spare;
    spare.start("s3cret word");
    red::set_endpoint("127.0.0.1", kSparePort);
    BOOST_CHECK_EXCEPTION(red::incr(kPrefix + "auth"), red::ReplyError, redis_error("NOAUTH"));
    {
        ConfigOverride wrong("redis_password", std::string("wrong"));
        red::reset_connection();
        BOOST_CHECK_THROW(red::incr(kPrefix + "auth"), red::Unavailable);  // as good as down
    }
    ConfigOverride right("redis_password", std::string("s3cret word"));
    red::reset_connection();
    BOOST_TEST(red::incr(kPrefix + "auth") == 1);
}

BOOST_AUTO_TEST_CASE(eval_runs_scripts_by_sha_and_survives_a_flushed_script_cache)
{
    const auto k = kPrefix + "eval";
    const std::string script =
        "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])";
    auto r = red::eval(script, {k}, {"\"one\""});
    BOOST_TEST(r.string().value() == "\"one\"");
    red::command({"SCRIPT", "FLUSH"});  // as after a Redis restart: the next call gets NOSCRIPT
    r = red::eval(script, {k}, {"\"two\""});
    BOOST_TEST(r.string().value() == "\"two\"");
    BOOST_CHECK_THROW(red::eval("return redis.call('NOSUCHCOMMAND')", {}, {}), red::ReplyError);
    BOOST_TEST(red::eval("return {1, 2}", {}, {}).integers() == (std::vector<std::int64_t>{1, 2}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
