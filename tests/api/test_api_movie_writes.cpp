// test_api_movie_writes.cpp: creating, updating and deleting movies over HTTP as an editor, and
// bad input that must be a 400 and change nothing.
#include <boost/test/unit_test.hpp>

#include "tests/api/accounts.h"

using namespace test;

namespace {

struct Editor {
    Account who;
    std::string sid;
    Editor() : who(make_account("editor", "movies")), sid(login_id(who)) {}
    HttpReply call(const std::string& method, const std::string& target,
                   const std::string& body = "")
    {
        return with_session(sid, method, target, body);
    }
    std::string create(const std::string& title)
    {
        const auto r =
            call("POST", "/api/movies/", R"({"title":")" + title + R"(","director":"Dir"})");
        BOOST_REQUIRE_EQUAL(r.status, 201);
        return str(parse(r), "id");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_movie_writes, Editor)

BOOST_AUTO_TEST_CASE(create_ignores_server_fields_and_sets_the_creator)
{
    const auto r = call(
        "POST", "/api/movies/",
        R"({"title":"Forrest Gump","director":"Robert Zemeckis","id":"999999",)"
        R"("creator":"2770060c-ebea-495f-b93f-509196e4bc73","created":"2001-01-01T00:00:00"})");
    BOOST_TEST(r.status == 201);
    const auto d = parse(r);
    BOOST_TEST(str(d, "title") == "Forrest Gump");
    BOOST_TEST(str(d, "director") == "Robert Zemeckis");
    BOOST_TEST(str(d, "creator") == who.id);
    BOOST_TEST(str(d, "id") != "999999");
    BOOST_TEST(str(d, "created") != "2001-01-01T00:00:00");
    const auto got = get("/api/movies/" + str(d, "id"));
    BOOST_TEST(got.status == 200);
    BOOST_TEST(str(parse(got), "creator") == who.id);
    // director is optional
    const auto bare = call("POST", "/api/movies/", R"({"title":"Untitled"})");
    BOOST_TEST(bare.status == 201);
    BOOST_TEST(str(parse(bare), "director") == "");
}

BOOST_AUTO_TEST_CASE(update_is_partial)
{
    const auto id = create("Matrix");
    const auto before = parse(get("/api/movies/" + id));
    const auto r = call("PUT", "/api/movies/" + id,
                        R"({"director":"Lana Wachowski","creator":"nobody","created":"x"})");
    BOOST_TEST(r.status == 200);
    const auto d = parse(r);
    BOOST_TEST(str(d, "title") == "Matrix");  // kept
    BOOST_TEST(str(d, "director") == "Lana Wachowski");
    BOOST_TEST(str(d, "creator") == who.id);
    BOOST_TEST(str(d, "created") == str(before, "created"));
    BOOST_TEST(str(d, "modified") >= str(before, "modified"));
    const auto t = parse(call("PUT", "/api/movies/" + id, R"({"title":"The Matrix"})"));
    BOOST_TEST(str(t, "title") == "The Matrix");
    BOOST_TEST(str(t, "director") == "Lana Wachowski");
    BOOST_TEST(call("PUT", "/api/movies/99999999", R"({"title":"x"})").status == 404);
    BOOST_TEST(call("PUT", "/api/movies/abc", R"({"title":"x"})").status == 404);
}

BOOST_AUTO_TEST_CASE(delete_replies_with_the_deleted_movie)
{
    const auto id = create("Gone");
    const auto r = call("DELETE", "/api/movies/" + id);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(str(parse(r), "title") == "Gone");
    BOOST_TEST(get("/api/movies/" + id).status == 404);
    BOOST_TEST(call("DELETE", "/api/movies/" + id).status == 404);
    BOOST_TEST(call("DELETE", "/api/movies/x1").status == 404);
}

BOOST_AUTO_TEST_CASE(writes_need_an_editor)
{
    const auto id = create("Guarded");
    const auto reader = login_id(make_account("readonly", "reader"));
    for (const auto& sid : {std::string(), reader}) {
        BOOST_TEST(with_session(sid, "POST", "/api/movies/", R"({"title":"x"})").status == 401);
        BOOST_TEST(with_session(sid, "PUT", "/api/movies/" + id, R"({"title":"x"})").status == 401);
        BOOST_TEST(with_session(sid, "DELETE", "/api/movies/" + id).status == 401);
    }
    BOOST_TEST(str(parse(get("/api/movies/" + id)), "title") == "Guarded");
}

BOOST_AUTO_TEST_CASE(bad_input_is_400_and_changes_nothing)
{
    const auto id = create("Stable");
    const auto count = parse(get("/api/movies/?limit=1000")).Size();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "request body must be a JSON object"},
        {"{\"title\":", "malformed JSON"},
        {"[\"title\"]", "request body must be a JSON object"},
        {"42", "request body must be a JSON object"},
        {R"({"title":5})", "title must be a string"},
        {R"({"title":"ok","director":["a"]})", "director must be a string"},
        {R"({"title":"ok","rating":5})", "unknown field: rating"},
        {"{\"title\":\"" + std::string(501, 't') + "\"}", "title must be at most 500 characters"},
        {"{\"title\":\"bad \xc3\x28\"}", "malformed JSON"},
        {R"({"title":"a\u0000b"})", "title must not contain control characters"},
        {R"({"title":""})", "title must not be empty"},
    };
    for (const auto& [body, msg] : cases) {
        BOOST_TEST_CONTEXT(body.substr(0, 60))
        {
            const auto put = call("PUT", "/api/movies/" + id, body);
            BOOST_TEST(put.status == 400);
            BOOST_TEST(put.body.find("\"err\":\"400: " + msg) != std::string::npos, put.body);
            const auto post = call("POST", "/api/movies/", body);
            BOOST_TEST(post.status == 400);
            BOOST_TEST(post.body.find("\"err\":\"400: " + msg) != std::string::npos, post.body);
        }
    }
    BOOST_TEST(call("POST", "/api/movies/", R"({"director":"only"})").body ==
               R"({"err":"400: missing field: title"})");
    BOOST_TEST(parse(get("/api/movies/?limit=1000")).Size() == count);
    const auto d = parse(get("/api/movies/" + id));
    BOOST_TEST(str(d, "title") == "Stable");
    BOOST_TEST(str(d, "director") == "Dir");
}

BOOST_AUTO_TEST_SUITE_END()
