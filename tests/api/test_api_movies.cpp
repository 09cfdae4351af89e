// test_api_movies.cpp: the movie reads over HTTP, with rows written through the model into the
// same PostgreSQL the server uses.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include "app/model/db.h"
#include "app/model/movie.h"
#include "app/model/user.h"
#include "tests/api/http.h"

using test::get;

namespace {

struct Filled {
    std::string user_id;
    std::vector<std::int64_t> ids;
    Filled()
    {
        BOOST_REQUIRE(test::post_json("/apitest/dbtruncate", "").status == 200);
        model::Tx tx;
        model::User u;
        u.email = "Creator@Example.com";
        u.password = "not-a-real-hash";
        u.first_name = "Lana";
        u.last_name = "W";
        u.insert(tx);
        user_id = u.id;
        for (int i = 1; i <= 20; ++i) {
            model::Movie m;
            m.title = i == 7 ? "The Matrix" : i == 8 ? "100% _wild_" : "Movie " + std::to_string(i);
            m.director = i == 9 ? "Lana Wachowski" : "Director " + std::to_string(i);
            m.creator = i % 2 ? user_id : "";
            m.insert(tx);
            ids.push_back(m.id);
        }
        tx.commit();
    }
};

rapidjson::Document parse(const test::HttpReply& r)
{
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    BOOST_REQUIRE(!d.HasParseError());
    return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_movies)

BOOST_AUTO_TEST_CASE(empty_table_lists_as_empty_array)
{
    BOOST_REQUIRE(test::post_json("/apitest/dbtruncate", "").status == 200);
    auto r = get("/api/movies/");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.body == "[]");
}

BOOST_FIXTURE_TEST_CASE(list_is_ordered_and_paged, Filled)
{
    auto all = parse(get("/api/movies/"));
    BOOST_REQUIRE(all.IsArray());
    BOOST_REQUIRE(all.Size() == 20u);
    BOOST_TEST(std::string(all[0]["id"].GetString()) == std::to_string(ids[0]));  // ids are strings
    BOOST_TEST(std::string(all[19]["id"].GetString()) == std::to_string(ids[19]));
    auto page2 = parse(get("/api/movies/?page=2&limit=5"));
    BOOST_REQUIRE((page2.IsArray() && page2.Size() == 5u));
    BOOST_TEST(std::string(page2[0]["id"].GetString()) == std::to_string(ids[5]));
    auto page0 = parse(get("/api/movies/?page=0&limit=3"));  // 0 means 1
    BOOST_REQUIRE((page0.IsArray() && page0.Size() == 3u));
    BOOST_TEST(std::string(page0[0]["id"].GetString()) == std::to_string(ids[0]));
    BOOST_TEST(parse(get("/api/movies/?page=9&limit=5")).Size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(search_and_creator_filters, Filled)
{
    auto m = parse(get("/api/movies/?search=mAtRiX"));
    BOOST_REQUIRE((m.IsArray() && m.Size() == 1u));
    BOOST_TEST(std::string(m[0]["title"].GetString()) == "The Matrix");
    BOOST_TEST(parse(get("/api/movies/?search=wachowski")).Size() == 1u);   // director too
    BOOST_TEST(parse(get("/api/movies/?search=100%25%20_")).Size() == 1u);  // literal % and _
    BOOST_TEST(parse(get("/api/movies/?search=%25")).Size() == 1u);
    auto mine = parse(get("/api/movies/?creator=" + user_id));
    BOOST_REQUIRE((mine.IsArray() && mine.Size() == 10u));
    BOOST_TEST(std::string(mine[0]["creator"].GetString()) == user_id);
}

BOOST_FIXTURE_TEST_CASE(one_movie_by_id, Filled)
{
    auto r = get("/api/movies/" + std::to_string(ids[6]));
    BOOST_TEST(r.status == 200);
    auto d = parse(r);
    BOOST_TEST(std::string(d["title"].GetString()) == "The Matrix");
    BOOST_TEST(std::string(d["id"].GetString()) == std::to_string(ids[6]));
    BOOST_TEST(std::string(d["created"].GetString()).size() == 19u);  // 2026-11-26T20:15:03
    BOOST_TEST(d.HasMember("modified"));
}

BOOST_AUTO_TEST_CASE(bad_ids_are_404)
{
    for (std::string id :
         {"999999", "abc", "-1", "1.5", "99999999999999999999999", "0x10", "%20"}) {
        BOOST_TEST_CONTEXT("id " << id)
        {
            auto r = get("/api/movies/" + id);
            BOOST_TEST(r.status == 404);
            BOOST_TEST(r.body.find("\"err\":\"404: ") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_query_parameters_are_400)
{
    for (std::string q : {"page=x", "page=-1", "limit=abc", "limit=1001", "creator=42",
                          "creator=not-a-uuid", "page=99999999999999999999"}) {
        BOOST_TEST_CONTEXT("query " << q)
        {
            auto r = get("/api/movies/?" + q);
            BOOST_TEST(r.status == 400);
            BOOST_TEST(r.body.find("\"err\":\"400: ") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(patch_is_405)
{
    BOOST_TEST(test::http("PATCH", "/api/movies/1").status == 405);
}

BOOST_AUTO_TEST_SUITE_END()
