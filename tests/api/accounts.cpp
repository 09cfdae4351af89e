// accounts.cpp: the helpers behind accounts.h.
#include "tests/api/accounts.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

#include <boost/test/unit_test.hpp>

#include "app/api/account.h"
#include "app/api/csrf.h"
#include "app/api/session.h"
#include "app/api/throttle.h"
#include "app/core/config.h"
#include "app/red/red.h"

namespace test {

std::string unique_email(const std::string& tag)
{
    static std::atomic<int> n{0};
    return tag + "-" + std::to_string(getpid()) + "-" +
           std::to_string(std::time(nullptr) % 100000) + "-" + std::to_string(++n) + "@example.com";
}

std::string password(const std::string& tag)
{
    return std::string(kPasswordMark) + "-" + tag + "1a";
}

Account make_account(const std::string& role, const std::string& tag)
{
    Account a{"", unique_email(tag), password(tag)};
    api::NewAccount n{a.email, a.password, "Test", tag, role};
    a.id = api::create_account(n).id;
    return a;
}

std::string cookie_name()
{
    return core::config().str("session_cookie_name");
}

std::string session_cookie(const HttpReply& r)
{
    for (const auto& c : r.cookies)
        if (c.rfind(cookie_name() + "=", 0) == 0)
            return c;
    return "";
}

std::string session_id(const HttpReply& r)
{
    const auto c = session_cookie(r);
    if (c.empty())
        return "";
    const auto start = cookie_name().size() + 1;
    return c.substr(start, c.find(';') - start);
}

HttpReply login(const std::string& email, const std::string& pw, const std::string& extra_json,
                const std::map<std::string, std::string>& headers)
{
    auto h = headers;
    h["Content-Type"] = "application/json";
    const std::string body = "{\"email\":\"" + email + "\",\"password\":\"" + pw + "\"" +
                             (extra_json.empty() ? "" : "," + extra_json) + "}";
    return http("POST", "/api/login", body, h);
}

std::string login_id(const Account& a)
{
    clear_login_throttle();  // a test that needs a session is not locked out by tests before it
    const auto r = login(a.email, a.password);
    BOOST_REQUIRE_MESSAGE(r.status == 200,
                          "login of " << a.email << ": " << r.status << " " << r.body);
    const auto sid = session_id(r);
    BOOST_REQUIRE_EQUAL(sid.size(), 64u);
    return sid;
}

HttpReply with_session(const std::string& sid, const std::string& method, const std::string& target,
                       const std::string& body, std::map<std::string, std::string> headers)
{
    if (!sid.empty())
        headers["Cookie"] = cookie_name() + "=" + sid;
    if (!body.empty() && !headers.count("Content-Type"))
        headers["Content-Type"] = "application/json";
    return http(method, target, body, headers);
}

std::string token_cookie(const HttpReply& r)
{
    const std::string prefix = std::string(api::kCsrfName) + "=";
    for (const auto& c : r.cookies)
        if (c.rfind(prefix, 0) == 0)
            return c.substr(prefix.size(), c.find(';') - prefix.size());
    return "";
}

std::string token_field(const std::string& page)
{
    const std::string mark = std::string("name=\"") + api::kCsrfName + "\" value=\"";
    const auto at = page.find(mark);
    if (at == std::string::npos)
        return "";
    const auto start = at + mark.size();
    return page.substr(start, page.find('"', start) - start);
}

FormToken open_form(const std::string& page)
{
    const auto r = get(page);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    const FormToken t{token_cookie(r), token_field(r.body)};
    BOOST_REQUIRE_EQUAL(t.cookie.size(), 32u);
    BOOST_REQUIRE_EQUAL(t.field, t.cookie);
    return t;
}

rapidjson::Document parse(const HttpReply& r)
{
    rapidjson::Document d;
    d.Parse(r.body.c_str(), r.body.size());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " << r.body);
    return d;
}

std::string str(const rapidjson::Value& v, const char* key)
{
    BOOST_REQUIRE(v.IsObject());
    auto it = v.FindMember(key);
    BOOST_REQUIRE_MESSAGE(it != v.MemberEnd() && it->value.IsString(), "no string " << key);
    return it->value.GetString();
}

long long redis_ttl(const std::string& key)
{
    return red::command({"TTL", key}).integer();
}

void clear_login_throttle(const std::string& email)
{
    red::delete_key(api::ip_fail_key("127.0.0.1"));
    red::delete_key(api::ip_signup_key("127.0.0.1"));
    if (!email.empty())
        red::delete_key(api::email_fail_key(email));
}

int run_admin(const std::string& args, const std::string& stdin_text)
{
    const std::string cmd = std::string(ADMIN_BIN) + " " + args + " >/dev/null 2>&1";
    FILE* p = popen(cmd.c_str(), "w");
    BOOST_REQUIRE(p);
    if (!stdin_text.empty())
        std::fputs((stdin_text + "\n").c_str(), p);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace test
