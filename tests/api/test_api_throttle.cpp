// test_api_throttle.cpp: login throttling per email and per client IP, the timing check (a login
// for an unknown email takes as long as one with a wrong password), and signup throttling per IP.
// Another client IP is a request from another loopback address (http_from), as nginx sees it.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>

#include "app/api/throttle.h"
#include "app/core/config.h"
#include "app/model/db.h"
#include "app/model/user.h"
#include "app/red/red.h"
#include "tests/api/accounts.h"

using namespace test;

namespace {

const char* const kOtherIp = "127.0.0.2";

struct Clean {
    Clean() { clear(); }
    ~Clean() { clear(); }  // the IP counters are shared by every test
    static void clear()
    {
        clear_login_throttle();
        red::delete_key(api::ip_signup_key(kOtherIp));
    }
};

HttpReply signup_from(const std::string& ip, const std::string& email, const std::string& pw)
{
    const auto body =
        R"({"email":")" + email + R"(","password":")" + pw + R"(","fname":"S","lname":"U"})";
    return http_from(ip, "POST", "/api/signup", body, {{"Content-Type", "application/json"}});
}

bool account_exists(const std::string& email)
{
    model::Tx tx{model::Tx::read};
    return model::User::get_by_email(tx, email).has_value();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_throttle, Clean)

BOOST_AUTO_TEST_CASE(eleventh_failure_for_an_email_is_429_until_the_window_passes)
{
    const auto a = make_account("editor", "throttled");
    const auto limit = core::config().integer("login_fail_limit_email");
    BOOST_REQUIRE_EQUAL(limit, 10);
    for (int i = 1; i <= limit; ++i) {
        const auto r = login(a.email, password("wrong"));
        BOOST_TEST_REQUIRE(r.status == 400, "attempt " << i);
    }
    const auto locked = login(a.email, password("wrong"));
    BOOST_TEST(locked.status == 429);
    BOOST_TEST(locked.body == R"({"err":"429: Too many failed logins, try again later"})");
    const auto wait = std::stoll(locked.header("retry-after"));
    BOOST_TEST(wait > 0);
    BOOST_TEST(wait <= core::config().integer("login_fail_window_s"));
    // the right password does not open a locked window either, nor does another letter case
    const auto right = login(a.email, a.password);
    BOOST_TEST(right.status == 429);
    BOOST_TEST(session_id(right).empty());
    auto upper = a.email;
    upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[0])));
    BOOST_TEST(login(upper, a.password).status == 429);
    // another email from the same IP still gets in
    const auto b = make_account("editor", "neighbour");
    BOOST_TEST(login(b.email, b.password).status == 200);
    // when the window has passed (its key expired), the login works again
    red::delete_key(api::email_fail_key(a.email));
    BOOST_TEST(login(a.email, a.password).status == 200);
}

BOOST_AUTO_TEST_CASE(failures_are_counted_in_redis_with_expiry)
{
    const auto email = unique_email("counted");
    BOOST_TEST(login(email, password("x")).status == 400);
    BOOST_TEST(login(email, password("x")).status == 400);
    BOOST_TEST(*red::get_keyval(api::email_fail_key(email)) == "2");
    const auto ttl = redis_ttl(api::email_fail_key(email));
    BOOST_TEST(ttl > 0);
    BOOST_TEST(ttl <= core::config().integer("login_fail_window_s"));
    BOOST_TEST(redis_ttl(api::ip_fail_key("127.0.0.1")) > 0);
    BOOST_TEST(post_json("/api/login", "{}").status == 400);  // missing input is no attempt
    BOOST_TEST(*red::get_keyval(api::email_fail_key(email)) == "2");
}

BOOST_AUTO_TEST_CASE(too_many_failures_from_one_ip_is_429)
{
    const auto a = make_account("editor", "ipthrottle");
    const auto limit = core::config().integer("login_fail_limit_ip");
    red::command({"SET", api::ip_fail_key("127.0.0.1"), std::to_string(limit), "EX", "600"});
    const auto r = login(a.email, a.password);
    BOOST_TEST(r.status == 429);
    const auto wait = std::stoll(r.header("retry-after"));
    BOOST_TEST(wait > 590);
    BOOST_TEST(wait <= 600);
    red::command({"SET", api::ip_fail_key("127.0.0.1"), std::to_string(limit - 1), "EX", "600"});
    BOOST_TEST(login(a.email, a.password).status == 200);
}

BOOST_AUTO_TEST_CASE(unknown_email_takes_as_long_as_a_wrong_password)
{
    const auto a = make_account("editor", "timing");
    const auto wrong_pw = password("wrongtiming");
    std::vector<double> unknown, wrong;
    std::string unknown_body, wrong_body;
    auto timed = [](const std::string& email, const std::string& pw, std::string& body) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = login(email, pw);
        const auto ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        BOOST_TEST_REQUIRE(r.status == 400);
        body = r.body;
        return ms;
    };
    // Interleaved pairs: each pair's two logins run back to back, so a load that comes and goes
    // on a shared machine slows both alike, and each pair's ratio is measured against its own
    // reference (the known email's login). The median ratio is then near 1; a shortcut for
    // unknown emails (no scrypt run) would put it near 0.1.
    std::vector<double> ratios;
    for (int i = 0; i < 21; ++i) {
        clear_login_throttle(a.email);
        wrong.push_back(timed(a.email, wrong_pw, wrong_body));
        unknown.push_back(timed(unique_email("timing-nobody"), wrong_pw, unknown_body));
        ratios.push_back(unknown.back() / wrong.back());
    }
    const double mu = median(unknown), mw = median(wrong), ratio = median(ratios);
    BOOST_TEST_MESSAGE("median login: unknown email " << mu << " ms, wrong password " << mw
                                                      << " ms, median ratio " << ratio);
    BOOST_TEST(unknown_body == wrong_body);
    BOOST_TEST(std::min(mu, mw) > 5.0);  // both real scrypt runs, not a shortcut
    BOOST_TEST(ratio >= 0.7);
    BOOST_TEST(ratio <= 1.0 / 0.7);
}

BOOST_AUTO_TEST_CASE(eleventh_signup_from_one_ip_is_429_until_the_window_passes)
{
    const auto limit = core::config().integer("signup_limit_ip");
    BOOST_REQUIRE_EQUAL(limit, 10);
    const auto pw = password("signups");
    for (int i = 1; i <= limit; ++i) {
        const auto r = signup_from("127.0.0.1", unique_email("signups"), pw);
        BOOST_TEST_REQUIRE(r.status == 201, "signup " << i << ": " << r.body);
    }
    const auto email = unique_email("signup11");
    const auto locked = signup_from("127.0.0.1", email, pw);
    BOOST_TEST(locked.status == 429);
    BOOST_TEST(locked.body == R"({"err":"429: Too many signups, try again later"})");
    const auto wait = std::stoll(locked.header("retry-after"));
    BOOST_TEST(wait > 0);
    BOOST_TEST(wait <= core::config().integer("signup_window_s"));
    BOOST_TEST(locked.cookies.empty());
    BOOST_TEST(!account_exists(email));
    // another client IP is not affected, and has its own counter
    const auto elsewhere = signup_from(kOtherIp, email, pw);
    BOOST_TEST(elsewhere.status == 201, elsewhere.body);
    BOOST_TEST(account_exists(email));
    BOOST_TEST(*red::get_keyval(api::ip_signup_key(kOtherIp)) == "1");
    // when the window has passed (its key expired), signups work again
    red::delete_key(api::ip_signup_key("127.0.0.1"));
    BOOST_TEST(signup_from("127.0.0.1", unique_email("signup12"), pw).status == 201);
}

BOOST_AUTO_TEST_CASE(every_signup_attempt_counts_but_a_malformed_request)
{
    const auto key = api::ip_signup_key("127.0.0.1");
    BOOST_TEST(post_json("/api/signup", "{}").status == 400);  // no attempt: nothing to hash
    BOOST_TEST(!red::get_keyval(key).has_value());
    const auto taken = make_account("editor", "signuptaken");
    BOOST_TEST(signup_from("127.0.0.1", taken.email, password("t")).status == 400);
    BOOST_TEST(signup_from("127.0.0.1", unique_email("weak"), "abcdef").status == 400);
    BOOST_TEST(*red::get_keyval(key) == "2");
    const auto ttl = redis_ttl(key);
    BOOST_TEST(ttl > 0);
    BOOST_TEST(ttl <= core::config().integer("signup_window_s"));
    // and failures fill the window as successes do
    const auto limit = core::config().integer("signup_limit_ip");
    red::command({"SET", key, std::to_string(limit), "EX", "600"});
    const auto email = unique_email("signupfull");
    BOOST_TEST(signup_from("127.0.0.1", email, password("f")).status == 429);
    BOOST_TEST(!account_exists(email));
}

BOOST_AUTO_TEST_SUITE_END()
