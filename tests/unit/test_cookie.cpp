// test_cookie.cpp: Set-Cookie values and the session cookie's flags under each configuration.
#include <boost/test/unit_test.hpp>

#include <cstdint>

#include "app/api/session.h"
#include "app/core/config.h"
#include "app/core/cookie.h"

namespace {
const std::time_t kNow = 1790000000;  // 2026-09-21T14:13:20Z
const std::string kId(64, 'a');

api::SessionSettings session_config(bool local_dev, bool secure, const std::string& domain)
{
    core::Config c = core::config();
    c.set("local_dev", local_dev);
    c.set("session_cookie_secure", secure);
    c.set("session_cookie_domain", domain);
    c.set("session_cookie_name", std::string("sid"));
    return api::SessionSettings::from(c);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cookie)

BOOST_AUTO_TEST_CASE(http_date_is_rfc_7231)
{
    BOOST_TEST(core::http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    BOOST_TEST(core::http_date(kNow) == "Mon, 21 Sep 2026 14:13:20 GMT");
}

BOOST_AUTO_TEST_CASE(all_flags_in_order)
{
    core::Cookie c;
    c.name = "session";
    c.value = "abc";
    c.domain = "example.com";
    c.max_age = 60;
    c.secure = true;
    BOOST_TEST(core::set_cookie_header(c, kNow) ==
               "session=abc; Path=/; Max-Age=60; Expires=Mon, 21 Sep 2026 14:14:20 GMT; "
               "Domain=example.com; HttpOnly; Secure; SameSite=Lax");
}

BOOST_AUTO_TEST_CASE(browser_session_cookie_has_no_expiry)
{
    core::Cookie c;
    c.name = "s";
    c.value = "v";
    BOOST_TEST(core::set_cookie_header(c, kNow) == "s=v; Path=/; HttpOnly; SameSite=Lax");
}

// Found by the cookie fuzzer: a huge Max-Age overflowed the Expires date.
BOOST_AUTO_TEST_CASE(lifetimes_are_capped_at_400_days)
{
    core::Cookie c;
    c.name = "s";
    for (std::int64_t age : {std::int64_t{400} * 86400 + 1, INT64_MAX}) {
        c.max_age = age;
        const auto h = core::set_cookie_header(c, kNow);
        BOOST_TEST(h.find("Max-Age=34560000; Expires=" + core::http_date(kNow + 34560000)) !=
                   std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(deleting_cookie_expires_in_1970)
{
    core::Cookie c;
    c.name = "s";
    c.max_age = 0;
    BOOST_TEST(
        core::set_cookie_header(c, kNow) ==
        "s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
}

BOOST_AUTO_TEST_CASE(unsafe_characters_are_refused)
{
    core::Cookie c;
    c.name = "s";
    for (const char* v : {"a b", "a;b", "a,b", "a\"b", "a\\b", "a\nb", "\x80"}) {
        c.value = v;
        BOOST_CHECK_THROW(core::set_cookie_header(c, kNow), std::invalid_argument);
    }
    c.value = "ok";
    for (const char* n : {"", "a=b", "a b", "a;b"}) {
        c.name = n;
        BOOST_CHECK_THROW(core::set_cookie_header(c, kNow), std::invalid_argument);
    }
}

BOOST_AUTO_TEST_CASE(session_cookie_secure_only_when_configured_and_not_local)
{
    const auto prod = api::session_cookie(session_config(false, true, ""), kId, 2592000, kNow);
    BOOST_TEST(prod.rfind("sid=" + kId + "; Path=/; Max-Age=2592000; Expires=", 0) == 0u);
    BOOST_TEST(prod.find("; Secure") != std::string::npos);
    BOOST_TEST(prod.find("; HttpOnly") != std::string::npos);
    BOOST_TEST(prod.find("; SameSite=Lax") != std::string::npos);
    BOOST_TEST(prod.find("Domain") == std::string::npos);
    const auto local = api::session_cookie(session_config(true, true, ""), kId, 2592000, kNow);
    BOOST_TEST(local.find("Secure") == std::string::npos);
    const auto off = api::session_cookie(session_config(false, false, ""), kId, 2592000, kNow);
    BOOST_TEST(off.find("Secure") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(session_cookie_domain_and_lifetimes)
{
    const auto c = session_config(false, true, "example.com");
    BOOST_TEST(api::session_cookie(c, kId, 60, kNow).find("; Domain=example.com") !=
               std::string::npos);
    const auto browser = api::session_cookie(c, kId, std::nullopt, kNow);
    BOOST_TEST(browser.find("Max-Age") == std::string::npos);
    BOOST_TEST(browser.find("Expires") == std::string::npos);
    BOOST_TEST(api::session_cookie(c, "", 0, kNow).find("sid=; Path=/; Max-Age=0;") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
