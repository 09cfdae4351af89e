// test_api_hostile.cpp: requests an attacker would send (issue 8), through nginx: each gets its
// 4xx with a clear message, kills no worker, writes nothing and leaks no credentials.
#include <boost/test/unit_test.hpp>

#include "app/core/text.h"
#include "tests/api/accounts.h"
#include "tests/db/raw_sql.h"

using namespace test;

namespace {

std::int64_t movie_count()
{
    return std::stoll(sql_row("SELECT count(*) FROM movies").at(0));
}

std::string nested_body(int depth)  // {"x": [[...]]}: depth levels, 2 * depth + 6 bytes
{
    return "{\"x\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

struct Editor {
    Account who = make_account("editor", "hostile");
    std::string sid = login_id(who);
    HttpReply post(const std::string& target, const std::string& body, const std::string& type)
    {
        return with_session(sid, "POST", target, body, {{"Content-Type", type}});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_hostile)

// A 100,000-level body overflowed the stack of the worker that logged it: a 502 per request.
BOOST_AUTO_TEST_CASE(a_deeply_nested_body_is_a_400_not_a_dead_worker)
{
    const auto deep = nested_body(100000);
    for (int i = 0; i < 8; ++i) {  // more requests than workers: each would have died
        const auto login = http("POST", "/api/login", deep, {{"Content-Type", "application/json"}});
        BOOST_TEST(login.status == 400);
        BOOST_TEST(login.body == R"({"err":"400: malformed JSON: nested deeper than 64 levels"})");
        const auto list = http("GET", "/api/list", deep, {{"Content-Type", "application/json"}});
        BOOST_TEST(list.status == 200);  // the route reads no body; only the log line saw it
    }
    const auto shallow =
        http("POST", "/api/login", nested_body(64), {{"Content-Type", "application/json"}});
    BOOST_TEST(shallow.body == R"({"err":"400: unknown field: x"})");  // parsed, then checked
}

// Invalid UTF-8 in ?search= reached PostgreSQL: a 500; a NUL cut the text and matched every row.
BOOST_AUTO_TEST_CASE(search_text_is_checked_before_the_database)
{
    for (const char* q : {"%FF", "%C0%AF", "%ED%A0%80", "%00", "ab%00cd", "%C2%85", "%0A"}) {
        const auto r = get(std::string("/api/movies/?search=") + q);
        BOOST_TEST_CONTEXT(q)
        {
            BOOST_TEST(r.status == 400);
            BOOST_TEST(r.body.find("\"err\":\"400: search must ") != std::string::npos);
        }
    }
    BOOST_TEST(get("/api/movies/?search=" + std::string(501, 'a')).status == 400);
    BOOST_TEST(get("/api/movies/?search=M%C3%A4trix").status == 200);
}

// text/plain, multipart and urlencoded posts need no CORS preflight: a page on any site could
// log a visitor in to the attacker's account, or post as the visitor.
BOOST_AUTO_TEST_CASE(json_routes_refuse_other_content_types)
{
    const auto a = make_account("editor", "ctype");
    const auto creds = R"({"email":")" + a.email + R"(","password":")" + a.password + R"("})";
    for (const char* type :
         {"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=b", "application/jsonp"}) {
        const auto r = http("POST", "/api/login", creds, {{"Content-Type", type}});
        BOOST_TEST_CONTEXT(type)
        {
            BOOST_TEST(r.status == 415);
            BOOST_TEST(r.body == R"({"err":"415: Content-Type must be application/json"})");
            BOOST_TEST(session_id(r).empty());
        }
    }
    BOOST_TEST(http("POST", "/api/login", creds, {}).status == 415);  // no type at all
    clear_login_throttle();  // the local IP's failed logins of other tests: no 429 here
    const auto ok =
        http("POST", "/api/login", creds, {{"Content-Type", "application/json; charset=UTF-8"}});
    BOOST_TEST(ok.status == 200);
    BOOST_TEST(!session_id(ok).empty());

    Editor ed;
    const auto before = movie_count();
    for (const char* type :
         {"text/plain", "multipart/form-data; boundary=b", "application/x-www-form-urlencoded"})
        BOOST_TEST(ed.post("/api/movies/", R"({"title":"CSRF"})", type).status == 415);
    BOOST_TEST(movie_count() == before);
    // The HTML form route takes forms only.
    const auto form_as_json = http("POST", "/auth/postform", R"({"mode":"login"})",
                                   {{"Content-Type", "application/json"}});
    BOOST_TEST(form_as_json.status == 415);
}

// Bytes after a NUL were never parsed: {"title":"x"}\0<anything> was stored.
BOOST_AUTO_TEST_CASE(a_body_is_json_to_its_last_byte)
{
    Editor ed;
    const auto before = movie_count();
    const std::string body("{\"title\":\"x\"}\0{\"garbage\":", 25);  // 13 + NUL + 11 bytes
    const auto r = ed.post("/api/movies/", body, "application/json");
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.body == R"({"err":"400: malformed JSON: NUL byte at offset 13"})");
    const auto dup = ed.post("/api/movies/", R"({"title":"a","title":"b"})", "application/json");
    BOOST_TEST(dup.status == 400);
    BOOST_TEST(dup.body == R"({"err":"400: malformed JSON: duplicate key \"title\""})");
    BOOST_TEST(movie_count() == before);
}

BOOST_AUTO_TEST_CASE(control_characters_of_every_kind_are_refused)
{
    Editor ed;
    const auto before = movie_count();
    for (const char* title :
         {R"(a\u0085b)", R"(a\u009fb)", R"(a\u0000b)", R"(a\nb)", R"(a\u007fb)"}) {
        const auto r = ed.post("/api/movies/", std::string(R"({"title":")") + title + "\"}",
                               "application/json");
        BOOST_TEST_CONTEXT(title)
        {
            BOOST_TEST(r.status == 400);
            BOOST_TEST(r.body == R"({"err":"400: title must not contain control characters"})");
        }
    }
    BOOST_TEST(movie_count() == before);
    BOOST_TEST(ed.post("/api/movies/", R"({"title":"a\u00a0b"})", "application/json").status ==
               201);
}

// A path that is not UTF-8 came back raw inside the JSON string of the 404.
BOOST_AUTO_TEST_CASE(echoed_text_is_valid_utf8)
{
    for (const char* path : {"/api/movies/%FF%FE", "/api/%C0%AFx", "/api/movies/%ED%A0%80"}) {
        const auto r = get(path);
        BOOST_TEST_CONTEXT(path)
        {
            BOOST_TEST(r.status == 404);
            BOOST_TEST(core::valid_utf8(r.body));
            BOOST_TEST(r.body.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD in its place
            parse(r);
        }
    }
}

// With cors_origins ["*"] (the test stack's), local development echoed every origin with
// credentials, and "*" went out together with Allow-Credentials.
BOOST_AUTO_TEST_CASE(foreign_origins_get_no_credentials)
{
    for (const char* origin :
         {"https://evil.example", "null", "http://localhost.evil.example:3000"}) {
        const auto r = http("GET", "/api/list", "", {{"Origin", origin}});
        BOOST_TEST_CONTEXT(origin)
        {
            BOOST_TEST(r.header("access-control-allow-origin") == "*");
            BOOST_TEST(r.header("access-control-allow-credentials") == "");
        }
    }
    const auto local = http("GET", "/api/list", "", {{"Origin", "http://localhost:3000"}});
    BOOST_TEST(local.header("access-control-allow-origin") == "http://localhost:3000");
    BOOST_TEST(local.header("access-control-allow-credentials") == "true");
}

BOOST_AUTO_TEST_CASE(replies_forbid_sniffing_and_pages_forbid_frames)
{
    for (const char* path :
         {"/api/list", "/api/movies/", "/api/nothing", "/auth/login", "/examplehtml"}) {
        const auto r = get(path);
        BOOST_TEST_CONTEXT(path)
        {
            BOOST_TEST(r.header("x-content-type-options") == "nosniff");
        }
    }
    for (const char* page : {"/auth/login", "/auth/signup", "/examplehtml", "/api/list"}) {
        const auto r = get(page);
        BOOST_TEST_CONTEXT(page)
        {
            BOOST_TEST(r.header("content-security-policy").find("frame-ancestors 'none'") !=
                       std::string::npos);
            BOOST_TEST(r.header("x-frame-options") == "DENY");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
