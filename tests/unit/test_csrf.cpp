// test_csrf.cpp: the form tokens of the HTML forms (csrf.h) without a server: the cookie, the
// comparisons, and check_form_token on requests made from CGI params.
#include <boost/test/unit_test.hpp>

#include "app/api/csrf.h"
#include "app/core/config.h"
#include "app/core/errors.h"

namespace {

const std::time_t kNow = 1790000000;  // 2026-09-21T14:13:20Z
const std::string kToken = "0123456789abcdef0123456789abcdef";
const std::string kOther = "0123456789abcdef0123456789abcdee";
const char* const kRefused = "form expired or posted from another site; reload the page";

api::FormTokenSettings token_config(bool local_dev)
{
    core::Config c = core::config();
    c.set("local_dev", local_dev);
    c.set("session_cookie_secure", true);
    c.set("form_token_lifetime_s", std::int64_t{3600});
    return api::FormTokenSettings::from(c);
}

// A form post as nginx passes it: cookie ("" = none), the form's token (nullopt = no field).
core::Request post(const std::string& cookie, std::optional<std::string> field,
                   std::map<std::string, std::string> more = {})
{
    more["CONTENT_TYPE"] = "application/x-www-form-urlencoded";
    more["HTTP_X_REAL_HOST"] = "example.com";
    if (!cookie.empty())
        more["HTTP_COOKIE"] = "session=abc; " + cookie;
    const std::string body = "mode=login&email=a%40b.c" + (field ? "&csrf_token=" + *field : "");
    return core::Request(std::move(more), body);
}

bool refused(const core::Request& req)
{
    try {
        api::check_form_token(req);
        return false;
    } catch (const core::BadRequest& e) {
        BOOST_TEST(std::string(e.what()) == kRefused);
        return true;
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csrf)

BOOST_AUTO_TEST_CASE(cookie_is_strict_http_only_and_scoped_to_the_forms)
{
    BOOST_TEST(api::form_token_cookie(token_config(false), kToken, kNow) ==
               "csrf_token=" + kToken +
                   "; Path=/auth/; Max-Age=3600; Expires=Mon, 21 Sep 2026 15:13:20 GMT; "
                   "HttpOnly; Secure; SameSite=Strict");
    // Secure as the session cookie: never in local development, which has no TLS
    const auto local = api::form_token_cookie(token_config(true), kToken, kNow);
    BOOST_TEST(local.find("Secure") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(tokens_compare_whole)
{
    BOOST_TEST(api::same_token(kToken, kToken));
    BOOST_TEST(!api::same_token(kToken, kOther));
    BOOST_TEST(!api::same_token(kToken, kToken.substr(0, 31)));
    BOOST_TEST(!api::same_token(kToken, kToken + "0"));
    BOOST_TEST(!api::same_token(kToken, ""));
}

BOOST_AUTO_TEST_CASE(origin_must_name_the_requests_host)
{
    BOOST_TEST(api::same_host("https://example.com", "example.com"));
    BOOST_TEST(api::same_host("http://Example.COM:8080", "example.com"));   // $host has no port
    BOOST_TEST(api::same_host("http://127.0.0.1:8161", "127.0.0.1:8161"));  // Host has one
    BOOST_TEST(api::same_host("http://[::1]:8080", "[::1]"));
    BOOST_TEST(!api::same_host("https://evil.example", "example.com"));
    BOOST_TEST(!api::same_host("https://example.com.evil.example", "example.com"));
    BOOST_TEST(!api::same_host("https://evil.example/example.com", "example.com"));
    BOOST_TEST(!api::same_host("https://example.co", "example.com"));
    BOOST_TEST(!api::same_host("null", "example.com"));  // sandboxed frames, data: pages
    BOOST_TEST(!api::same_host("", "example.com"));
    BOOST_TEST(!api::same_host("https://", "example.com"));
    BOOST_TEST(!api::same_host("https://example.com", ""));
}

BOOST_AUTO_TEST_CASE(a_post_needs_the_cookies_token_in_the_form)
{
    BOOST_TEST(!refused(post("csrf_token=" + kToken, kToken)));
    BOOST_TEST(refused(post("csrf_token=" + kToken, std::nullopt)));  // no field
    BOOST_TEST(refused(post("csrf_token=" + kToken, "")));
    BOOST_TEST(refused(post("csrf_token=" + kToken, kOther)));  // another page's token
    BOOST_TEST(refused(post("", kToken)));                      // no cookie
    BOOST_TEST(refused(post("csrf_token=", "")));               // nothing equals nothing
    BOOST_TEST(refused(post("csrf_token=x", "x")));             // a cookie we never made
    BOOST_TEST(refused(post("csrf_token=" + kToken + "0", kToken + "0")));
}

BOOST_AUTO_TEST_CASE(a_post_from_another_origin_is_refused_even_with_the_token)
{
    const auto cookie = "csrf_token=" + kToken;
    BOOST_TEST(!refused(post(cookie, kToken, {{"HTTP_ORIGIN", "https://example.com"}})));
    BOOST_TEST(refused(post(cookie, kToken, {{"HTTP_ORIGIN", "https://evil.example"}})));
    BOOST_TEST(refused(post(cookie, kToken, {{"HTTP_ORIGIN", "null"}})));
    // without nginx, the Host header is the host
    const std::map<std::string, std::string> local{{"HTTP_ORIGIN", "http://localhost:8000"},
                                                   {"HTTP_HOST", "localhost:8000"}};
    BOOST_TEST(refused(post(cookie, kToken, local)));  // X-Real-Host (example.com) wins when set
    std::map<std::string, std::string> cgi{{"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                                           {"HTTP_COOKIE", cookie},
                                           {"HTTP_ORIGIN", "http://localhost:8000"},
                                           {"HTTP_HOST", "localhost:8000"}};
    BOOST_TEST(!refused(core::Request(cgi, "csrf_token=" + kToken)));
}

BOOST_AUTO_TEST_SUITE_END()
