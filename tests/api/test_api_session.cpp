// test_api_session.cpp: server-side sessions over HTTP: cookie flags, remember true/false, the
// sliding renewal, no session for visitors, a new id per login, replayed and tampered cookies,
// fresh sessions, every role level, and role changes (the admin command) reaching live sessions.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <rapidjson/document.h>

#include "app/api/session.h"
#include "app/core/config.h"
#include "app/red/red.h"
#include "tests/api/accounts.h"

using namespace test;

namespace {

struct Clean {
    Clean() { clear_login_throttle(); }
};

rapidjson::Document stored_session(const std::string& sid)
{
    const auto v = red::get_keyval(api::session_key(sid));
    BOOST_REQUIRE_MESSAGE(v, "no session " << sid << " in Redis");
    rapidjson::Document d;
    d.Parse(v->c_str());
    BOOST_REQUIRE(d.IsObject());
    return d;
}

long long count_sessions()
{
    return static_cast<long long>(red::command({"KEYS", "session:*"}).strings().size());
}

std::string movie_body(const std::string& title)
{
    return R"({"title":")" + title + R"(","director":"D"})";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_session, Clean)

BOOST_AUTO_TEST_CASE(cookie_flags_with_remember)
{
    const auto a = make_account("editor", "flags");
    const auto r = login(a.email, a.password);
    const auto c = session_cookie(r);
    BOOST_TEST_MESSAGE("Set-Cookie: " << c);
    BOOST_TEST(session_id(r).find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_TEST(c.find("; HttpOnly") != std::string::npos);
    BOOST_TEST(c.find("; SameSite=Lax") != std::string::npos);
    BOOST_TEST(c.find("; Path=/") != std::string::npos);
    BOOST_TEST(c.find("; Max-Age=2592000") != std::string::npos);  // 30 days
    BOOST_TEST(c.find("; Expires=") != std::string::npos);
    BOOST_TEST(c.find("Secure") == std::string::npos);  // local development: no TLS
    BOOST_TEST(c.find("Domain") == std::string::npos);  // none configured
    BOOST_TEST(r.cookies.size() == 1u);
    const auto ttl = redis_ttl(api::session_key(session_id(r)));
    BOOST_TEST(ttl > 2592000 - 60);
    BOOST_TEST(ttl <= 2592000);
}

BOOST_AUTO_TEST_CASE(remember_false_is_a_browser_session_with_a_short_life)
{
    const auto a = make_account("editor", "norem");
    const auto r = login(a.email, a.password, R"("remember":false)");
    BOOST_TEST(r.status == 200);
    const auto c = session_cookie(r);
    BOOST_TEST(c.find("Max-Age") == std::string::npos);
    BOOST_TEST(c.find("Expires") == std::string::npos);
    BOOST_TEST(c.find("; HttpOnly") != std::string::npos);
    const auto sid = session_id(r);
    const auto short_life = core::config().integer("session_short_lifetime_s");
    BOOST_TEST(redis_ttl(api::session_key(sid)) <= short_life);
    BOOST_TEST(redis_ttl(api::session_key(sid)) > short_life - 60);
    // Activity renews the server side, and sends no cookie with an expiry.
    red::expire(api::session_key(sid), 100);
    const auto me = with_session(sid, "GET", "/api/me");
    BOOST_TEST(me.status == 200);
    BOOST_TEST(session_cookie(me).empty());
    BOOST_TEST(redis_ttl(api::session_key(sid)) > short_life - 60);
}

BOOST_AUTO_TEST_CASE(remembered_session_slides_on_every_request)
{
    const auto a = make_account("editor", "slide");
    const auto sid = login_id(a);
    red::expire(api::session_key(sid), 100);  // as if it had been idle for almost 30 days
    BOOST_TEST(redis_ttl(api::session_key(sid)) <= 100);
    const auto r = with_session(sid, "GET", "/api/movies/");  // any route, a visitor's too
    BOOST_TEST(r.status == 200);
    BOOST_TEST(redis_ttl(api::session_key(sid)) > 2592000 - 60);
    const auto c = session_cookie(r);
    BOOST_TEST(c.find(cookie_name() + "=" + sid + ";") == 0u);  // the same id, renewed
    BOOST_TEST(c.find("; Max-Age=2592000") != std::string::npos);
    BOOST_TEST(redis_ttl(api::user_sessions_key(a.id)) > 2592000 - 60);  // the index follows
}

BOOST_AUTO_TEST_CASE(visitors_get_no_session_and_no_cookie)
{
    const auto before = count_sessions();
    for (const char* path : {"/api/movies/", "/api/list", "/api/me"})
        BOOST_TEST(get(path).cookies.empty());
    BOOST_TEST(session_cookie(get("/auth/login")).empty());  // only the form token (csrf.h)
    const auto failed = login(unique_email("ghost"), password("ghost"));
    BOOST_TEST(failed.status == 400);
    BOOST_TEST(failed.cookies.empty());
    BOOST_TEST(count_sessions() == before);
}

BOOST_AUTO_TEST_CASE(session_holds_user_role_ip_and_agent)
{
    const auto a = make_account("admin", "holds");
    const auto sid =
        session_id(login(a.email, a.password, "", {{"User-Agent", "Agent/1.0 (test)"}}));
    const auto s = stored_session(sid);
    BOOST_TEST(str(s, "uid") == a.id);
    BOOST_TEST(str(s, "role") == "admin");
    BOOST_TEST(str(s, "ip") == "127.0.0.1");
    BOOST_TEST(str(s, "agent") == "Agent/1.0 (test)");
    BOOST_TEST(red::get_keyval(api::session_key(sid))->find(kPasswordMark) == std::string::npos);
    const auto members = red::command({"SMEMBERS", api::user_sessions_key(a.id)}).strings();
    BOOST_TEST((std::find(members.begin(), members.end(), sid) != members.end()));
}

BOOST_AUTO_TEST_CASE(login_issues_a_new_id_and_destroys_the_old_one)
{
    const auto a = make_account("editor", "newid");
    const auto first = login_id(a);
    const auto again = login(a.email, a.password, "", {{"Cookie", cookie_name() + "=" + first}});
    const auto second = session_id(again);
    BOOST_TEST(second.size() == 64u);
    BOOST_TEST(second != first);
    BOOST_TEST(again.cookies.size() == 1u);  // the new cookie only, no renewal of the old one
    BOOST_TEST(!red::get_keyval(api::session_key(first)));
    BOOST_TEST(with_session(first, "GET", "/api/me").status == 401);
    BOOST_TEST(with_session(second, "GET", "/api/me").status == 200);
    // signup too replaces a session the caller had
    const auto su = with_session(second, "POST", "/api/signup",
                                 R"({"email":")" + unique_email("newid2") + R"(","password":")" +
                                     password("n2") + R"(","fname":"N","lname":"I"})");
    BOOST_TEST(su.status == 201);
    BOOST_TEST(session_id(su) != second);
    BOOST_TEST(with_session(second, "GET", "/api/me").status == 401);
}

BOOST_AUTO_TEST_CASE(tampered_unknown_or_expired_cookies_are_visitors)
{
    const auto a = make_account("editor", "tamper");
    const auto sid = login_id(a);
    auto tampered = sid;
    tampered[10] = tampered[10] == 'a' ? 'b' : 'a';
    for (const auto& bad : {tampered, sid.substr(0, 63), sid + "0", std::string("x"),
                            std::string(64, 'Z'), std::string("../../etc"), std::string(64, '0')}) {
        BOOST_TEST_CONTEXT(bad)
        {
            const auto r = with_session(bad, "GET", "/api/me");
            BOOST_TEST(r.status == 401);
            BOOST_TEST(r.cookies.empty());
            BOOST_TEST(with_session(bad, "GET", "/api/movies/").status == 200);
        }
    }
    red::delete_key(api::session_key(sid));  // expired
    BOOST_TEST(with_session(sid, "GET", "/api/me").status == 401);
}

BOOST_AUTO_TEST_CASE(fresh_session_needs_the_login_ip_and_agent)
{
    const auto a = make_account("readonly", "fresh");
    const std::map<std::string, std::string> ua{{"User-Agent", "Browser/1"}};
    const auto sid = session_id(login(a.email, a.password, "", ua));
    BOOST_TEST(with_session(sid, "GET", "/apitest/freshsession", "", ua).status == 200);
    const auto other =
        with_session(sid, "GET", "/apitest/freshsession", "", {{"User-Agent", "Browser/2"}});
    BOOST_TEST(other.status == 401);
    BOOST_TEST(other.body == R"({"err":"401: fresh login required"})");
    BOOST_TEST(with_session(sid, "GET", "/api/me", "", {{"User-Agent", "Browser/2"}}).status ==
               200);
    // the same agent from another address: store another login IP, keeping the time to live
    const auto key = api::session_key(sid);
    auto json = *red::get_keyval(key);
    const std::string local_ip = R"("ip":"127.0.0.1")";
    const auto at = json.find(local_ip);
    BOOST_REQUIRE(at != std::string::npos);
    json.replace(at, local_ip.size(), R"("ip":"10.1.2.3")");
    red::command({"SET", key, json, "KEEPTTL"});
    BOOST_TEST(with_session(sid, "GET", "/apitest/freshsession", "", ua).status == 401);
    BOOST_TEST(get("/apitest/freshsession").status == 401);  // and a visitor of course
    // the registry shows the flag
    BOOST_TEST(get("/api/list").body.find("user, fresh session") != std::string::npos);
    const auto doc = get("/api/openapi.json").body;
    BOOST_TEST(doc.find("\"x-fresh-session\":true") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_role_level_is_checked)
{
    struct Case {
        const char* role;
        int me, create, users;
    };
    const Case cases[] = {{"readonly", 200, 401, 401},
                          {"editor", 200, 201, 401},
                          {"admin", 200, 201, 401},
                          {"superuser", 200, 201, 200}};
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.role)
        {
            const auto sid = login_id(make_account(c.role, c.role));
            BOOST_TEST(with_session(sid, "GET", "/api/me").status == c.me);
            BOOST_TEST(with_session(sid, "POST", "/api/movies/", movie_body(c.role)).status ==
                       c.create);
            BOOST_TEST(with_session(sid, "GET", "/api/users").status == c.users);
            BOOST_TEST(with_session(sid, "GET", "/api/movies/").status == 200);
            BOOST_TEST(with_session(sid, "POST", "/api/logout", "{}").status == 200);
        }
    }
    BOOST_TEST(get("/api/me").status == 401);  // visitor
    BOOST_TEST(post_json("/api/movies/", movie_body("visitor")).status == 401);
    BOOST_TEST(get("/api/users").status == 401);
    BOOST_TEST(get("/api/movies/").status == 200);
}

BOOST_AUTO_TEST_CASE(admin_command_creates_users_and_changes_roles_of_live_sessions)
{
    const auto email = unique_email("cli");
    const auto pw = password("cli");
    BOOST_REQUIRE(run_admin("create-user " + email + " - readonly Cli User", pw) == 0);
    BOOST_TEST(run_admin("create-user " + email + " " + pw + " readonly") != 0);  // taken
    BOOST_TEST(run_admin("create-user " + unique_email("cli2") + " weak readonly") != 0);
    BOOST_TEST(run_admin("set-role " + email + " root") != 0);
    BOOST_TEST(run_admin("set-role " + unique_email("nobody") + " editor") != 0);
    BOOST_TEST(run_admin("frobnicate") != 0);
    const auto one = session_id(login(email, pw));
    const auto two = session_id(login(email, pw, R"("remember":false)"));
    BOOST_REQUIRE(!one.empty());  // both logins worked (an empty id: no session cookie)
    BOOST_REQUIRE(!two.empty());
    BOOST_TEST(with_session(one, "POST", "/api/movies/", movie_body("cli")).status == 401);
    red::expire(api::session_key(two), 5000);
    BOOST_REQUIRE(run_admin("set-role " + email + " editor") == 0);
    const auto ttl = redis_ttl(api::session_key(two));
    BOOST_TEST(ttl <= 5000);  // the session's life is kept, not reset
    BOOST_TEST(ttl > 4900);
    for (const auto& sid : {one, two}) {  // both live sessions follow at once
        BOOST_TEST(str(stored_session(sid), "role") == "editor");
        BOOST_TEST(with_session(sid, "POST", "/api/movies/", movie_body("cli")).status == 201);
    }
}

BOOST_AUTO_TEST_CASE(disabled_user_is_stopped_mid_session)
{
    const auto a = make_account("editor", "disable");
    const auto sid = login_id(a);
    const auto other = login_id(a);
    BOOST_TEST(with_session(sid, "GET", "/api/me").status == 200);
    BOOST_REQUIRE(run_admin("set-role " + a.email + " disabled") == 0);
    const auto r = with_session(sid, "GET", "/api/me");
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.body == R"({"err":"account disabled"})");
    BOOST_TEST(session_cookie(r).find("Max-Age=0") != std::string::npos);  // the cookie goes
    BOOST_TEST(!red::get_keyval(api::session_key(sid)));                   // and the session
    BOOST_TEST(with_session(sid, "GET", "/api/me").status == 401);         // now a visitor
    const auto open_route = with_session(other, "GET", "/api/movies/");    // any route at all
    BOOST_TEST(open_route.status == 400);
    BOOST_TEST(open_route.body == R"({"err":"account disabled"})");
    const auto again = login(a.email, a.password);  // and no new session either
    BOOST_TEST(again.status == 400);
    BOOST_TEST(again.body == R"({"err":"account disabled"})");
    BOOST_TEST(session_id(again).empty());
    BOOST_REQUIRE(run_admin("set-role " + a.email + " readonly") == 0);
    BOOST_TEST(login(a.email, a.password).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
