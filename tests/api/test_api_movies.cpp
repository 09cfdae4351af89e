// test_api_movies.cpp: the movie reads over HTTP, with rows written through the model into the
// same PostgreSQL the server uses.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <ctime>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/model/db.h"
#include "app/model/movie.h"
#include "app/model/user.h"
#include "tests/api/http.h"

using test::get;

namespace {

// 20 movies and their creator of this fixture alone: each title and director starts with a tag
// no other test (or earlier run) has, so the tests find exactly these rows by searching for the
// tag, and need no wipe of the table.
struct Filled {
    std::string tag, user_id;
    std::vector<std::int64_t> ids;
    Filled()
    {
        static int n = 0;
        tag = "mv" + std::to_string(getpid()) + "n" + std::to_string(++n) + "t" +
              std::to_string(std::time(nullptr));
        model::Tx tx;
        model::User u;
        u.email = tag + "-creator@example.com";
        u.password = "not-a-real-hash";
        u.first_name = "Lana";
        u.last_name = "W";
        u.insert(tx);
        user_id = u.id;
        for (int i = 1; i <= 20; ++i) {
            model::Movie m;
            // 8 holds a literal % and _; 10 is what "100% _" would also match as LIKE wildcards.
            m.title = tag + (i == 7    ? " The Matrix"
                             : i == 8  ? " 100% _wild_"
                             : i == 10 ? " 100ab cwild"
                                       : " Movie " + std::to_string(i));
            m.director = tag + (i == 9 ? " Lana Wachowski" : " Director " + std::to_string(i));
            m.creator = i % 2 ? user_id : "";
            m.insert(tx);
            ids.push_back(m.id);
        }
        tx.commit();
    }
    // GET /api/movies/ with search=<tag><text> and more query parameters.
    rapidjson::Document search(const std::string& text, const std::string& more = "") const
    {
        std::string q;
        for (char c : tag + text)
            q += c == ' ' ? "%20" : c == '%' ? "%25" : std::string(1, c);
        return list(get("/api/movies/?search=" + q + more));
    }
    static rapidjson::Document parse(const test::HttpReply& r)
    {
        rapidjson::Document d;
        d.Parse(r.body.c_str());
        BOOST_REQUIRE_MESSAGE(!d.HasParseError(), r.body);
        return d;
    }
    static rapidjson::Document list(const test::HttpReply& r)
    {
        auto d = parse(r);
        BOOST_REQUIRE_MESSAGE(d.IsArray(), r.body);
        return d;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_movies)

BOOST_AUTO_TEST_CASE(no_match_lists_as_empty_array)
{
    auto r = get("/api/movies/?search=nothing" + std::to_string(getpid()) + "matches");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.body == "[]");
}

BOOST_FIXTURE_TEST_CASE(list_is_ordered_and_paged, Filled)
{
    auto all = search("");
    BOOST_REQUIRE(all.Size() == 20u);
    BOOST_TEST(std::string(all[0]["id"].GetString()) == std::to_string(ids[0]));  // ids are strings
    BOOST_TEST(std::string(all[19]["id"].GetString()) == std::to_string(ids[19]));
    auto page2 = search("", "&page=2&limit=5");
    BOOST_REQUIRE(page2.Size() == 5u);
    BOOST_TEST(std::string(page2[0]["id"].GetString()) == std::to_string(ids[5]));
    auto page0 = search("", "&page=0&limit=3");  // 0 means 1
    BOOST_REQUIRE(page0.Size() == 3u);
    BOOST_TEST(std::string(page0[0]["id"].GetString()) == std::to_string(ids[0]));
    BOOST_TEST(search("", "&page=9&limit=5").Size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(search_and_creator_filters, Filled)
{
    auto m = search(" tHe mAtRiX");  // any case
    BOOST_REQUIRE(m.Size() == 1u);
    BOOST_TEST(std::string(m[0]["title"].GetString()) == tag + " The Matrix");
    BOOST_TEST(search(" lana wachowski").Size() == 1u);  // director too
    BOOST_TEST(search(" 100% _").Size() == 1u);          // literal % and _, not wildcards
    BOOST_TEST(search(" 100%").Size() == 1u);
    auto mine = Filled::list(get("/api/movies/?creator=" + user_id));
    BOOST_REQUIRE(mine.Size() == 10u);
    BOOST_TEST(std::string(mine[0]["creator"].GetString()) == user_id);
}

BOOST_FIXTURE_TEST_CASE(one_movie_by_id, Filled)
{
    auto r = get("/api/movies/" + std::to_string(ids[6]));
    BOOST_TEST(r.status == 200);
    auto d = Filled::parse(r);
    BOOST_TEST(std::string(d["title"].GetString()) == tag + " The Matrix");
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
