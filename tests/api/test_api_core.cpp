// test_api_core.cpp: routing, error shapes, CORS and self-description, over HTTP through nginx.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <future>
#include <set>
#include <vector>

#include <rapidjson/document.h>

#include "app/api/routes.h"
#include "app/core/config.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::get;
using test::http;

BOOST_AUTO_TEST_SUITE(api_core)

BOOST_AUTO_TEST_CASE(root_redirects_to_the_list)
{
    auto r = get("/");
    BOOST_TEST(r.status == 302);
    BOOST_TEST(r.header("location") == "/api/list");
}

BOOST_AUTO_TEST_CASE(api_list_shows_every_route_with_its_doc)
{
    auto r = get("/api/list");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type").find("text/html") == 0u);
    core::Router router;  // the same registry the server builds
    api::add_all_routes(router);
    BOOST_TEST(router.routes().size() >= 8u);
    for (const auto& route : router.routes()) {
        BOOST_TEST_CONTEXT(route.method << " " << route.pattern)
        {
            BOOST_TEST(r.body.find("<code>" + route.pattern + "</code>") != std::string::npos);
            BOOST_TEST(!route.doc.empty());
            BOOST_TEST(r.body.find(route.doc.substr(0, 30)) != std::string::npos);
        }
    }
    BOOST_TEST(r.body.find(std::to_string(router.routes().size()) + " routes") !=
               std::string::npos);
    BOOST_TEST(r.body.find("uptime:") != std::string::npos);
    BOOST_TEST(r.body.find("local_dev: on") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(openapi_document_lists_the_registry)
{
    auto r = get("/api/openapi.json");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type") == "application/json");
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    using test::json_at;
    using test::json_text;
    BOOST_TEST(json_text(doc, "/openapi").rfind("3.", 0) == 0u);
    BOOST_REQUIRE(json_at(doc, "/servers").IsArray());
    BOOST_TEST(json_at(doc, "/servers").Size() >= 1u);
    const auto& op = json_at(doc, "/paths/~1api~1movies~1{id}/get");
    BOOST_TEST(json_text(op, "/summary") == "Get one movie by id.");
    BOOST_TEST(json_text(op, "/operationId") == "getMovie");
    BOOST_TEST(json_text(op, "/x-required-role") == "visitor");
    BOOST_TEST(json_text(op, "/parameters/0/name") == "id");
    BOOST_TEST(json_text(op, "/parameters/0/in") == "path");
    BOOST_TEST(json_text(op, "/responses/200/content/application~1json/schema/$ref") ==
               "#/components/schemas/Movie");
    BOOST_TEST(json_at(op, "/responses").HasMember("404"));
}

BOOST_AUTO_TEST_CASE(openapi_has_the_session_scheme_and_every_route_with_an_operation_id)
{
    rapidjson::Document doc;
    doc.Parse(get("/api/openapi.json").body.c_str());
    BOOST_REQUIRE(doc.IsObject());
    using test::json_at;
    using test::json_text;
    const auto& scheme = json_at(doc, "/components/securitySchemes/session");
    BOOST_TEST(json_text(scheme, "/type") == "apiKey");
    BOOST_TEST(json_text(scheme, "/in") == "cookie");
    BOOST_TEST(json_text(scheme, "/name") == core::config().str("session_cookie_name"));
    core::Router router;  // the same registry the server builds
    api::add_all_routes(router);
    std::set<std::string> ids;
    for (const auto& route : router.routes()) {
        std::string method;
        for (char c : route.method)
            method += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        BOOST_TEST_CONTEXT(route.method << " " << route.pattern)
        {
            BOOST_REQUIRE(json_at(doc, "/paths").HasMember(route.pattern.c_str()));
            const auto& path = json_at(doc, "/paths")[route.pattern.c_str()];
            BOOST_REQUIRE(path.HasMember(method.c_str()));
            const auto& op = path[method.c_str()];
            const std::string id = json_text(op, "/operationId");
            BOOST_TEST(ids.insert(id).second, "operationId " << id << " twice");
            const auto& security = json_at(op, "/security");
            BOOST_REQUIRE(security.IsArray());
            const bool login = route.min_role != core::Role::visitor;
            BOOST_TEST(security.Size() == (login ? 1u : 0u));
            if (login && security.Size() == 1u)
                BOOST_TEST(security[0].HasMember("session"));
            BOOST_TEST(json_at(op, "/responses").HasMember("401") ==
                       (login || route.fresh_session));
            // every error reply in the one shape
            BOOST_TEST(json_text(op, "/responses/400/content/application~1json/schema/$ref") ==
                       "#/components/schemas/Error");
            BOOST_TEST(op.HasMember("requestBody") ==
                       (!route.input.empty() || route.body == core::Body::form));
        }
    }
    // a declared body with its limits and required members
    const auto& input = json_at(doc, "/components/schemas/MovieInput");
    BOOST_REQUIRE(json_at(input, "/properties/title/maxLength").IsInt());
    BOOST_TEST(json_at(input, "/properties/title/maxLength").GetInt() == 500);
    BOOST_TEST(json_text(input, "/required/0") == "title");
    BOOST_TEST(json_at(input, "/additionalProperties").IsFalse());
    BOOST_TEST(json_text(doc, "/components/schemas/Error/required/0") == "err");
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_json)
{
    auto r = get("/api/nothing/here");
    BOOST_TEST(r.status == 404);
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.body == R"({"err":"404: /api/nothing/here"})");
    auto outside = get("/not-for-the-app");  // answered by nginx itself, same shape
    BOOST_TEST(outside.status == 404);
    BOOST_TEST(outside.body.find("\"err\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_method_is_405_json)
{
    auto r = http("DELETE", "/api/list");
    BOOST_TEST(r.status == 405);
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.body.find("\"err\":\"405: ") != std::string::npos);
    BOOST_TEST(r.header("allow").find("GET") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cors_headers_on_every_reply)
{
    for (const auto& r : {get("/api/list"), get("/api/nothing"), get("/api/movies/abc")}) {
        BOOST_TEST(r.header("access-control-allow-origin") == "*");
        BOOST_TEST(r.header("access-control-allow-methods") == "GET,POST,PUT,DELETE,OPTIONS");
        BOOST_TEST(r.header("access-control-allow-headers") == "Content-Type");
        // No browser takes "*" with credentials, so no reply says both (issue 8).
        BOOST_TEST(r.header("access-control-allow-credentials") == "");
    }
}

BOOST_AUTO_TEST_CASE(preflight_is_open_and_echoes_local_origins)
{
    auto r = http("OPTIONS", "/api/movies/", "",
                  {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "POST"}});
    BOOST_TEST((r.status == 200 || r.status == 204));
    BOOST_TEST(r.header("access-control-allow-origin") == "http://localhost:5173");
    BOOST_TEST(r.header("vary") == "Origin");
    BOOST_TEST(r.header("access-control-allow-credentials") == "true");
    auto login_only = http("OPTIONS", "/api/me", "", {{"Origin", "http://127.0.0.1:3000"}});
    BOOST_TEST((login_only.status == 200 || login_only.status == 204));
    BOOST_TEST(login_only.header("access-control-allow-origin") == "http://127.0.0.1:3000");
    BOOST_TEST(login_only.header("access-control-allow-credentials") == "true");
    // Not a local origin: no echo, so a browser keeps that page from reading the reply.
    auto other = http("OPTIONS", "/api/me", "", {{"Origin", "http://evil.example:3000"}});
    BOOST_TEST(other.header("access-control-allow-credentials") == "");
    BOOST_TEST(other.header("access-control-allow-origin") != "http://evil.example:3000");
}

BOOST_AUTO_TEST_CASE(dbtruncate_exists_in_local_dev_and_empties_the_tables)
{
    // On a server instance with a scratch database of its own: emptying the stack's database
    // would take the rows of every other test (they make their own and need no wipe).
    const std::string db = "restpie_scratch_" + std::to_string(getpid());
    const auto psql = [](const std::string& database, const std::string& sql) {
        return test::command_output(
            "psql -X -q -tA -v ON_ERROR_STOP=1 -h \"$APP_DB_HOST\" -p "
            "\"$APP_DB_PORT\" -U postgres -d " +
            database + " -c \"" + sql + "\"; echo \"exit $?\"");
    };
    const auto made = psql("postgres", "CREATE DATABASE " + db + " OWNER \\\"$APP_DB_USER\\\"");
    BOOST_REQUIRE_MESSAGE(made.find("exit 0") != std::string::npos, made);
    const auto migrated = test::command_output("timeout 60 env APP_DB_NAME=" + db +
                                               " " MIGRATE_BIN "; echo \"exit $?\"");
    BOOST_TEST(migrated.find("exit 0") != std::string::npos, migrated);
    BOOST_TEST(psql(db, "INSERT INTO movies (title) VALUES ('Kept until the wipe')") == "exit 0\n");
    {
        test::Instance inst("dbtruncate", {{"APP_DB_NAME", db}, {"APP_WORKERS", "1"}});
        BOOST_TEST(get(test::Instance::url("/api/movies/")).body != "[]");
        const auto r = test::post_json(test::Instance::url("/apitest/dbtruncate"), "");
        BOOST_TEST(r.status == 200);
        BOOST_TEST(r.body == "{}");
        BOOST_TEST(get(test::Instance::url("/apitest/dbtruncate")).status == 405);
        BOOST_TEST(psql(db, "SELECT count(*) FROM movies") == "0\nexit 0\n");
        BOOST_TEST(get(test::Instance::url("/api/movies/")).body == "[]");
    }
    const auto dropped = psql("postgres", "DROP DATABASE " + db + " WITH (FORCE)");
    BOOST_TEST(dropped.find("exit 0") != std::string::npos, dropped);
}

BOOST_AUTO_TEST_CASE(examplehtml_renders_the_time)
{
    auto r = get("/examplehtml");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type").find("text/html") == 0u);
    BOOST_TEST(r.body.find("The time is now <b>20") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(counter_increments_atomically_in_redis)
{
    // 4 clients at once: an atomic increment hands each of the 100 requests its own value, with
    // no gap and no repeat (a read-then-write counter would repeat values under this load).
    constexpr int kClients = 4, kEach = 25;
    std::vector<std::future<std::vector<std::int64_t>>> clients;
    for (int c = 0; c < kClients; ++c)
        clients.push_back(std::async(std::launch::async, [] {
            std::vector<std::int64_t> seen;
            for (int i = 0; i < kEach; ++i) {
                // No Boost.Test macro here: they are for the test's own thread. -1: a bad reply.
                const auto r = get("/apitest/counter");
                rapidjson::Document d;
                d.Parse(r.body.c_str());
                const bool ok = r.status == 200 && d.IsObject() && d.HasMember("counter") &&
                                d["counter"].IsInt64();
                seen.push_back(ok ? d["counter"].GetInt64() : -1);
            }
            return seen;
        }));
    std::vector<std::int64_t> all;
    for (auto& c : clients)
        for (auto v : c.get())
            all.push_back(v);
    std::sort(all.begin(), all.end());
    BOOST_REQUIRE(all.front() >= 0);  // every reply was a 200 with a counter
    BOOST_REQUIRE(all.size() == static_cast<std::size_t>(kClients * kEach));
    BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()),
               "a value was handed out twice");
    BOOST_TEST(all.back() - all.front() == kClients * kEach - 1);
}

BOOST_AUTO_TEST_SUITE_END()
