// test_api_auth_pages.cpp: the HTML forms and /auth/postform in all four modes over HTTP,
// including password reset with an expired token and a token used from another IP, the form
// token (CSRF) that every post needs, and the signup throttle on the form.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include <rapidjson/document.h>

#include "app/api/password_reset.h"
#include "app/api/throttle.h"
#include "app/core/config.h"
#include "app/core/request.h"
#include "app/model/db.h"
#include "app/model/user.h"
#include "app/red/red.h"
#include "tests/api/accounts.h"

using namespace test;

namespace {

struct Clean {
    Clean() { clear_login_throttle(); }
};

// Form bodies are built from name/value pairs, each value URL-encoded.
std::string encode(const std::string& s)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return out;
}

using Fields = std::vector<std::pair<std::string, std::string>>;
const char* const kRefused = "form expired or posted from another site; reload the page";

// A post to /auth/postform with exactly these fields and Cookie header ("" = none).
HttpReply post_raw(const Fields& fields, const std::string& cookies,
                   std::map<std::string, std::string> headers = {})
{
    std::string body;
    for (const auto& [k, v] : fields)
        body += (body.empty() ? "" : "&") + encode(k) + "=" + encode(v);
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (!cookies.empty())
        headers["Cookie"] = cookies;
    return http("POST", "/auth/postform", body, headers);
}

Fields with_token(Fields f, const std::string& token)
{
    f.emplace_back("csrf_token", token);
    return f;
}

// The page a browser would have posted these fields from.
std::string page_of(const Fields& fields)
{
    std::string mode, token;
    for (const auto& [k, v] : fields) {
        if (k == "mode")
            mode = v;
        if (k == "token")
            token = v;
    }
    if (mode == "reset")
        return "/auth/reset?token=" + encode(token);
    return mode == "signup" || mode == "forgot" ? "/auth/" + mode : "/auth/login";
}

// A post as a browser makes it: the form page first, then the form with the page's token.
HttpReply post_form(const Fields& fields, const std::map<std::string, std::string>& headers = {})
{
    const auto t = open_form(page_of(fields));
    return post_raw(with_token(fields, t.field), "csrf_token=" + t.cookie, headers);
}

bool account_exists(const std::string& email)
{
    model::Tx tx{model::Tx::read};
    return model::User::get_by_email(tx, email).has_value();
}

void expect_login_redirect(const HttpReply& r, const std::string& email)
{
    BOOST_TEST(r.status == 302);
    BOOST_TEST(r.header("location") == "/api/me");
    const auto me = with_session(session_id(r), "GET", "/api/me");
    BOOST_TEST(me.status == 200);
    BOOST_TEST(me.body.find("\"email\":\"" + email + "\"") != std::string::npos);
}

void expect_page_error(const HttpReply& r, const std::string& message, int status = 200)
{
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.header("content-type").find("text/html") == 0u);
    BOOST_TEST(r.body.find("<p class=\"error\">" + message) != std::string::npos,
               r.body.substr(0, 2000));
    BOOST_TEST(session_id(r).empty());
}

// The tokens that forgot requests stored for this user, found in Redis as the mail carries them.
std::vector<std::string> tokens_for(const std::string& user_id)
{
    std::vector<std::string> out;
    for (const auto& key : red::command({"KEYS", api::reset_key("*")}).strings()) {
        const auto v = red::get_keyval(key);
        if (v && v->find(user_id) != std::string::npos)
            out.push_back(key.substr(api::reset_key("").size()));
    }
    return out;
}

std::string token_for(const std::string& user_id)
{
    const auto all = tokens_for(user_id);
    return all.empty() ? "" : all[0];
}

std::string forgot(const Account& a)
{
    const auto r = post_form({{"mode", "forgot"}, {"email", a.email}});
    BOOST_TEST(r.status == 200);
    const auto token = token_for(a.id);
    BOOST_REQUIRE_EQUAL(token.size(), 64u);
    return token;
}

HttpReply reset(const std::string& token, const std::string& pw, const std::string& pw2)
{
    return post_form({{"mode", "reset"},
                      {"email", "shown@example.com"},
                      {"token", token},
                      {"passwd", pw},
                      {"passwd2", pw2}});
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_auth_pages, Clean)

BOOST_AUTO_TEST_CASE(pages_are_plain_html_forms)
{
    for (const char* mode : {"login", "signup", "forgot"}) {
        BOOST_TEST_CONTEXT(mode)
        {
            const auto r = get(std::string("/auth/") + mode);
            BOOST_TEST(r.status == 200);
            BOOST_TEST(r.header("content-type").find("text/html") == 0u);
            BOOST_TEST(r.body.find("<form method=\"post\" action=\"/auth/postform\">") !=
                       std::string::npos);
            BOOST_TEST(r.body.find("name=\"mode\" value=\"" + std::string(mode) + "\"") !=
                       std::string::npos);
            BOOST_TEST(r.body.find("<script") == std::string::npos);
            BOOST_TEST(r.body.find("class=\"error\"") == std::string::npos);
            // no session, only the form token: in a short-lived cookie and in the form
            BOOST_REQUIRE_EQUAL(r.cookies.size(), 1u);
            const auto token = token_cookie(r);
            BOOST_TEST(token.size() == 32u);
            BOOST_TEST(token.find_first_not_of("0123456789abcdef") == std::string::npos);
            BOOST_TEST(token_field(r.body) == token);
            const auto lifetime = core::config().integer("form_token_lifetime_s");
            const auto flags = "; Path=/auth/; Max-Age=" + std::to_string(lifetime) + "; ";
            BOOST_TEST(r.cookies[0].find(flags) != std::string::npos, r.cookies[0]);
            BOOST_TEST(r.cookies[0].find("; HttpOnly") != std::string::npos);
            BOOST_TEST(r.cookies[0].find("; SameSite=Strict") != std::string::npos);
            BOOST_TEST(r.cookies[0].find("Domain") == std::string::npos);
            BOOST_TEST(r.cookies[0].find("Secure") == std::string::npos);  // local: no TLS
            BOOST_TEST(token_cookie(get(std::string("/auth/") + mode)) !=
                       token);  // one per browser
            // A browser that has one keeps it, so a form in a second tab does not void the first.
            const auto again = http("GET", std::string("/auth/") + mode, "",
                                    {{"Cookie", std::string("csrf_token=") + token}});
            BOOST_TEST(token_field(again.body) == token);
            BOOST_TEST(token_cookie(again) == token);
        }
    }
    BOOST_TEST(get("/auth/signup").body.find("name=\"firstname\"") != std::string::npos);
    BOOST_TEST(get("/auth/forgot").body.find("name=\"passwd\"") == std::string::npos);
    expect_page_error(get("/auth/reset"), "Token is missing or expired");
    expect_page_error(get("/auth/reset?token=%3Cscript%3E"), "Token is missing or expired");
}

BOOST_AUTO_TEST_CASE(login_form)
{
    const auto a = make_account("editor", "formlogin");
    expect_login_redirect(
        post_form({{"mode", "login"}, {"email", a.email}, {"passwd", a.password}}), a.email);
    expect_page_error(
        post_form({{"mode", "login"}, {"email", a.email}, {"passwd", password("no")}}),
        "Invalid login credentials");
    expect_page_error(post_form({{"mode", "login"}, {"email", ""}, {"passwd", "x"}}),
                      "Email is missing");
    // values come back escaped, never as markup
    const auto r = post_form({{"mode", "login"},
                              {"email", "\"><script>alert(1)</script>@x.io"},
                              {"passwd", password("xss")}});
    expect_page_error(r, "Invalid login credentials");
    BOOST_TEST(r.body.find("<script>") == std::string::npos);
    BOOST_TEST(r.body.find("&lt;script&gt;") != std::string::npos);
    BOOST_TEST(r.body.find(kPasswordMark) == std::string::npos);  // passwords never come back
}

BOOST_AUTO_TEST_CASE(signup_form)
{
    const auto email = unique_email("formsignup");
    const auto pw = password("fs");
    auto fields = [&](const std::string& p2, const std::string& first) {
        return std::vector<std::pair<std::string, std::string>>{
            {"mode", "signup"},   {"email", email}, {"firstname", first},
            {"lastname", "Form"}, {"passwd", pw},   {"passwd2", p2}};
    };
    const auto differ = post_form(fields(pw + "x", "<b>Bold</b>"));
    expect_page_error(differ, "Passwords differ");
    BOOST_TEST(differ.body.find("value=\"&lt;b&gt;Bold&lt;/b&gt;\"") != std::string::npos);
    auto weak = fields("abc", "F");
    weak[4].second = "abc";
    expect_page_error(post_form(weak), "password must be at least 6 characters");
    const auto ok = post_form(fields(pw, "Formy"));
    expect_login_redirect(ok, email);
    BOOST_TEST(with_session(session_id(ok), "GET", "/api/me").body.find("\"role\":\"editor\"") !=
               std::string::npos);
    expect_page_error(post_form(fields(pw, "Again")), "Signup email taken");
}

BOOST_AUTO_TEST_CASE(malformed_posts_are_400_pages)
{
    const auto a = make_account("editor", "formbad");
    const auto login_fields = [&](std::vector<std::pair<std::string, std::string>> extra) {
        std::vector<std::pair<std::string, std::string>> f{
            {"mode", "login"}, {"email", a.email}, {"passwd", a.password}};
        f.insert(f.end(), extra.begin(), extra.end());
        return f;
    };
    expect_page_error(post_form({{"email", a.email}, {"passwd", a.password}}), "unknown form mode",
                      400);
    expect_page_error(post_form({{"mode", "admin"}, {"email", a.email}}), "unknown form mode", 400);
    expect_page_error(post_form(login_fields({{"role", "superuser"}})), "unknown field: role", 400);
    expect_page_error(post_form({{"mode", "login"}, {"email", a.email}}), "missing field: passwd",
                      400);
    expect_page_error(
        post_form({{"mode", "login"}, {"email", std::string(255, 'e')}, {"passwd", "x"}}),
        "email must be at most 254 characters", 400);
    expect_page_error(post_form({{"mode", "login"}, {"email", "a\xff@x.io"}, {"passwd", "x"}}),
                      "email must be valid UTF-8", 400);
    expect_page_error(
        post_form({{"mode", "login"}, {"email", std::string("a\0b", 3)}, {"passwd", "x"}}),
        "email must not contain control characters", 400);
    // Another content type never reaches the page (issue 8): the dispatcher's 415.
    const auto json =
        with_session("", "POST", "/auth/postform", R"({"mode":"login","email":"x","passwd":"y"})");
    BOOST_TEST(json.status == 415);
    BOOST_TEST(session_id(json).empty());
    // a 400 page brings a new token, so the form on it works
    const auto again = post_raw({{"mode", "login"}, {"email", a.email}}, "");
    expect_page_error(again, kRefused, 400);
    BOOST_TEST(token_field(again.body) == token_cookie(again));
    BOOST_TEST(token_cookie(again).size() == 32u);
    expect_login_redirect(post_raw({{"mode", "login"},
                                    {"email", a.email},
                                    {"passwd", a.password},
                                    {"csrf_token", token_field(again.body)}},
                                   "csrf_token=" + token_cookie(again)),
                          a.email);
}

BOOST_AUTO_TEST_CASE(posts_without_their_pages_token_are_400_and_change_nothing)
{
    const auto a = make_account("editor", "csrf");
    const auto reset_token = forgot(a);
    const auto new_email = unique_email("csrfsignup");
    const auto pw = password("csrfnew");
    const std::vector<Fields> forms = {
        {{"mode", "login"}, {"email", a.email}, {"passwd", a.password}},
        {{"mode", "signup"},
         {"email", new_email},
         {"firstname", "C"},
         {"lastname", "S"},
         {"passwd", pw},
         {"passwd2", pw}},
        {{"mode", "forgot"}, {"email", a.email}},
        {{"mode", "reset"},
         {"email", a.email},
         {"token", reset_token},
         {"passwd", pw},
         {"passwd2", pw}},
    };
    const auto other = open_form();  // a token of another page load, replaced by the next one
    struct Attempt {
        const char* what;
        Fields fields;
        std::string cookies;
        std::map<std::string, std::string> headers;
    };
    for (const auto& f : forms) {
        const auto t = open_form(page_of(f));
        const auto cookie = "csrf_token=" + t.cookie;
        const auto good = with_token(f, t.field);
        const std::vector<Attempt> attempts = {
            {"no token in the form", f, cookie, {}},
            {"a wrong token", with_token(f, other.field), cookie, {}},
            {"the token but no cookie", good, "", {}},
            {"the token and a session cookie only",
             good,
             cookie_name() + "=" + std::string(64, 'a'),
             {}},
            {"an empty token and cookie", with_token(f, ""), "csrf_token=", {}},
            {"from another site", good, cookie, {{"Origin", "https://evil.example"}}},
            {"from a look-alike site",
             good,
             cookie,
             {{"Origin", "http://" + base_host() + ".evil.example"}}},
            {"from an opaque origin", good, cookie, {{"Origin", "null"}}},
        };
        for (const auto& at : attempts) {
            BOOST_TEST_CONTEXT(f[0].second << ": " << at.what)
            {
                expect_page_error(post_raw(at.fields, at.cookies, at.headers), kRefused, 400);
            }
        }
    }
    // nothing happened: no signup, no new reset token, the old one unused, the password unchanged
    BOOST_TEST(!account_exists(new_email));
    BOOST_TEST(tokens_for(a.id) == std::vector<std::string>{reset_token});
    BOOST_TEST(login(a.email, a.password).status == 200);
    // the same forms, posted from our pages (the browser's Origin names this host), work
    const std::map<std::string, std::string> ours{
        {"Origin", "http://" + base_host() + ":" + std::to_string(base_port())}};
    expect_login_redirect(post_form(forms[0], ours), a.email);
    expect_login_redirect(post_form(forms[1], ours), new_email);
    const auto note = post_form(forms[2], ours);
    BOOST_TEST(note.status == 200);
    BOOST_TEST(note.body.find("class=\"note\"") != std::string::npos);
    BOOST_TEST(tokens_for(a.id).size() == 2u);
    expect_login_redirect(post_form(forms[3], ours), a.email);
    BOOST_TEST(login(a.email, pw).status == 200);
}

BOOST_AUTO_TEST_CASE(forgot_answers_the_same_for_unknown_emails)
{
    const auto a = make_account("editor", "forgot");
    const auto known = post_form({{"mode", "forgot"}, {"email", a.email}});
    const auto nobody = unique_email("noaccount");
    const auto unknown = post_form({{"mode", "forgot"}, {"email", nobody}});
    BOOST_TEST(known.status == 200);
    BOOST_TEST(unknown.status == 200);
    BOOST_TEST(session_id(known).empty());
    auto same = unknown.body;
    for (auto at = same.find(nobody); at != std::string::npos; at = same.find(nobody, at))
        same.replace(at, nobody.size(), a.email);
    const auto token_at = same.find(token_field(unknown.body));
    BOOST_REQUIRE(token_at != std::string::npos);
    same.replace(token_at, 32, token_field(known.body));
    BOOST_TEST(known.body == same);  // the same page but for the email it echoes (and its token)
    BOOST_TEST(known.body.find("class=\"note\"") != std::string::npos);
    const auto token = token_for(a.id);
    BOOST_REQUIRE_EQUAL(token.size(), 64u);
    const auto ttl = redis_ttl(api::reset_key(token));
    BOOST_TEST(ttl > 3540);  // one hour
    BOOST_TEST(ttl <= 3600);
    const auto stored = *red::get_keyval(api::reset_key(token));
    BOOST_TEST(stored.find("\"ip\":\"127.0.0.1\"") != std::string::npos);
    // the reset page shows whose password it resets
    const auto page = get("/auth/reset?token=" + token);
    BOOST_TEST(page.status == 200);
    BOOST_TEST(page.body.find("value=\"" + a.email + "\" readonly") != std::string::npos);
    BOOST_TEST(page.body.find("name=\"token\" value=\"" + token + "\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reset_sets_the_password_logs_in_and_burns_the_token)
{
    const auto a = make_account("editor", "reset");
    const auto old_session = login_id(a);
    const auto token = forgot(a);
    const auto pw = password("renewed");
    expect_page_error(reset(token, pw, pw + "x"), "Passwords differ");
    expect_page_error(reset(token, "short", "short"), "password must be at least 6 characters");
    expect_login_redirect(reset(token, pw, pw), a.email);
    BOOST_TEST(!red::get_keyval(api::reset_key(token)));  // used once
    expect_page_error(reset(token, pw, pw), "Invalid or expired token");
    BOOST_TEST(login(a.email, a.password).status == 400);  // the old password is gone
    BOOST_TEST(login(a.email, pw).status == 200);
    BOOST_TEST(with_session(old_session, "GET", "/api/me").status == 401);  // and its sessions
}

BOOST_AUTO_TEST_CASE(reset_with_an_expired_token_fails)
{
    const auto a = make_account("editor", "expired");
    const auto token = forgot(a);
    red::command({"PEXPIRE", api::reset_key(token), "1"});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto pw = password("late");
    expect_page_error(reset(token, pw, pw), "Invalid or expired token");
    expect_page_error(get("/auth/reset?token=" + token), "Token is missing or expired");
    BOOST_TEST(login(a.email, a.password).status == 200);  // unchanged
}

BOOST_AUTO_TEST_CASE(reset_from_another_ip_fails)
{
    const auto a = make_account("editor", "wrongip");
    const auto token = forgot(a);
    // nginx sets X-Real-IP to the peer, always 127.0.0.1 here: so the token claims another asker.
    const auto key = api::reset_key(token);
    auto stored = *red::get_keyval(key);
    const std::string local = R"("ip":"127.0.0.1")";
    BOOST_REQUIRE(stored.find(local) != std::string::npos);
    stored.replace(stored.find(local), local.size(), R"("ip":"203.0.113.9")");
    red::command({"SET", key, stored, "KEEPTTL"});
    const auto pw = password("elsewhere");
    expect_page_error(reset(token, pw, pw),
                      "This reset link works only from the address that asked for it");
    // a spoofed X-Real-IP header from the client does not help: nginx replaces it
    const auto t = open_form();
    const auto spoofed = post_raw({{"mode", "reset"},
                                   {"email", "x"},
                                   {"token", token},
                                   {"passwd", pw},
                                   {"passwd2", pw},
                                   {"csrf_token", t.field}},
                                  "csrf_token=" + t.cookie, {{"X-Real-IP", "203.0.113.9"}});
    expect_page_error(spoofed, "This reset link works only from the address that asked for it");
    BOOST_TEST(red::get_keyval(key).has_value());  // not burned by the failures
    BOOST_TEST(login(a.email, a.password).status == 200);
}

BOOST_AUTO_TEST_CASE(signup_form_is_throttled_per_ip_as_the_api)
{
    const auto limit = core::config().integer("signup_limit_ip");
    const auto key = api::ip_signup_key("127.0.0.1");
    red::command({"SET", key, std::to_string(limit - 1), "EX", "600"});
    const auto pw = password("formthrottle");
    auto fields = [&](const std::string& email) {
        return Fields{{"mode", "signup"}, {"email", email}, {"firstname", "F"},
                      {"lastname", "T"},  {"passwd", pw},   {"passwd2", pw}};
    };
    const auto last = unique_email("formlast");
    expect_login_redirect(post_form(fields(last)), last);  // the limit-th attempt still passes
    const auto refused = unique_email("formthrottled");
    const auto r = post_form(fields(refused));
    expect_page_error(r, "Too many signups, try again later", 429);
    const auto wait = std::stoll(r.header("retry-after"));
    BOOST_TEST(wait > 590);
    BOOST_TEST(wait <= 600);
    BOOST_TEST(!account_exists(refused));
    BOOST_TEST(token_field(r.body) == token_cookie(r));  // the page's form works, once it may
    red::delete_key(key);
}

BOOST_AUTO_TEST_SUITE_END()
