// test_api_schemas.cpp: real replies carry exactly what the declarations (app/api/schemas.h,
// the routes' gives()) say, so the OpenAPI document, and every client generated from it, is right.
#include <boost/test/unit_test.hpp>

#include "app/api/routes.h"
#include "app/api/schemas.h"
#include "tests/api/accounts.h"

using namespace test;

namespace {

// Every required member there, none undeclared, each of its declared JSON type.
void check_against(const rapidjson::Value& v, const core::Schema& s, const std::string& where)
{
    BOOST_TEST_CONTEXT(where)
    {
        if (v.IsNull()) {
            BOOST_TEST(s.nullable);
            return;
        }
        switch (s.type) {
        case core::Type::string: BOOST_TEST(v.IsString()); return;
        case core::Type::integer: BOOST_TEST(v.IsInt64()); return;
        case core::Type::boolean: BOOST_TEST(v.IsBool()); return;
        case core::Type::array:
            BOOST_REQUIRE(v.IsArray());
            for (const auto& item : v.GetArray())
                check_against(item, s.items.at(0), where + "[]");
            return;
        case core::Type::object: break;
        }
        BOOST_REQUIRE(v.IsObject());
        for (const auto& f : s.fields) {
            const auto it = v.FindMember(f.name.c_str());
            if (it == v.MemberEnd())
                BOOST_TEST(!f.required, f.name << " missing");
            else
                check_against(it->value, f.schema, where + "." + f.name);
        }
        for (const auto& m : v.GetObject()) {
            const std::string name = m.name.GetString();
            BOOST_TEST(
                (s.open || std::any_of(s.fields.begin(), s.fields.end(),
                                       [&](const core::Field& f) { return f.name == name; })),
                name << " not declared");
        }
    }
}

// The schema route METHOD PATTERN declares for status.
const core::Schema& declared(const std::string& method, const std::string& pattern, int status)
{
    static core::Router router;
    if (router.routes().empty())
        api::add_all_routes(router);
    for (const auto& r : router.routes())
        if (r.method == method && r.pattern == pattern)
            for (const auto& o : r.replies)
                if (o.status == status && !o.body.empty())
                    return o.body[0];
    throw std::logic_error("no reply declared for " + method + " " + pattern);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_schemas)

BOOST_AUTO_TEST_CASE(replies_match_their_declarations)
{
    const auto who = make_account("editor", "schemas");
    const auto sid = login_id(who);
    const auto created = with_session(sid, "POST", "/api/movies/", R"({"title":"Heat"})");
    BOOST_REQUIRE_EQUAL(created.status, 201);
    check_against(parse(created), declared("POST", "/api/movies/", 201), "created movie");
    check_against(parse(created), api::movie_schema(), "movie");
    const auto id = str(parse(created), "id");
    check_against(parse(get("/api/movies/" + id)), declared("GET", "/api/movies/{id}", 200),
                  "movie");
    check_against(parse(get("/api/movies/?limit=5")), declared("GET", "/api/movies/", 200),
                  "movies");
    check_against(parse(with_session(sid, "GET", "/api/me")), declared("GET", "/api/me", 200),
                  "me");
    check_against(parse(get("/apitest/counter")), declared("GET", "/apitest/counter", 200),
                  "counter");
    check_against(parse(get("/api/health")), declared("GET", "/api/health", 200), "health");
    const auto gone = with_session(sid, "DELETE", "/api/movies/" + id);
    check_against(parse(gone), declared("DELETE", "/api/movies/{id}", 200), "deleted movie");
    check_against(parse(with_session(sid, "POST", "/api/logout", "{}")),
                  declared("POST", "/api/logout", 200), "logout");
}

BOOST_AUTO_TEST_SUITE_END()
