// test_schema.cpp: a declared body checks input with the handlers' messages, and becomes OpenAPI.
#include <boost/test/unit_test.hpp>

#include "app/core/errors.h"
#include "app/core/router.h"
#include "app/core/schema.h"

namespace {

using core::Schema;

// clang-format off: one member a line, with its limits
const Schema kLogin = Schema::object("Login")
                          .text("email", 10)
                          .required()
                          .not_empty()
                          .text("password", 10)
                          .required()
                          .not_empty()
                          .flag("remember")
                          .when_missing("Missing input");
// clang-format on

// clang-format off: one member a line, with its limits
const Schema kMovie = Schema::object("Movie")
                          .text("title", 5)
                          .required()
                          .not_empty()
                          .text("fname", 3)
                          .label("first name")
                          .ignore({"id"});
// clang-format on

// The 400 message body.check gives for this JSON text, "" when it passes.
std::string problem(const Schema& body, const std::string& json)
{
    try {
        body.check(core::JsonObject::parse(json));
        return "";
    } catch (const core::BadRequest& e) {
        return e.what();
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schema)

BOOST_AUTO_TEST_CASE(check_gives_the_messages_handlers_gave)
{
    BOOST_TEST(problem(kLogin, R"({"email":"a@b","password":"x"})") == "");
    BOOST_TEST(problem(kLogin, R"({"email":"a@b","password":"x","admin":1})") ==
               "unknown field: admin");
    BOOST_TEST(problem(kLogin, R"({"email":5,"password":"x"})") == "email must be a string");
    BOOST_TEST(problem(kLogin, R"({"email":"a","password":"x","remember":"y"})") ==
               "remember must be true or false");
    BOOST_TEST(problem(kLogin, R"({"email":"a@b"})") == "Missing input");
    BOOST_TEST(problem(kLogin, R"({"email":"","password":"x"})") == "Missing input");
    BOOST_TEST(problem(kLogin, R"({"email":null,"password":"x"})") == "Missing input");
    BOOST_TEST(problem(kLogin, R"({"email":"12345678901","password":"x"})") ==
               "email must be at most 10 characters");
    BOOST_TEST(problem(kMovie, R"({"title":"ok","id":"7"})") == "");
    BOOST_TEST(problem(kMovie, R"({})") == "missing field: title");
    BOOST_TEST(problem(kMovie, R"({"title":""})") == "title must not be empty");
    BOOST_TEST(problem(kMovie, R"({"title":"a\u0001"})") ==
               "title must not contain control characters");
    BOOST_TEST(problem(kMovie, R"({"title":"ok","fname":"four"})") ==
               "first name must be at most 3 characters");
}

BOOST_AUTO_TEST_CASE(write_refers_to_named_objects_once)
{
    const auto list = Schema::array_of(kMovie);
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    std::vector<const Schema*> refs;
    w.StartArray();
    list.write(w, refs);
    kMovie.write(w, refs);
    kMovie.write(w, refs, true);
    w.EndArray();
    BOOST_REQUIRE_EQUAL(refs.size(), 1u);
    const std::string json = sb.GetString();
    BOOST_TEST(json.find(R"({"type":"array","items":{"$ref":"#/components/schemas/Movie"}})") ==
               1u);
    BOOST_TEST(json.find(R"("title":{"type":"string","minLength":1,"maxLength":5})") !=
               std::string::npos);
    BOOST_TEST(json.find(R"("required":["title"],"additionalProperties":false)") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(multiline_text_takes_line_breaks_and_nothing_else)
{
    // clang-format off: one member a line, with its limits
    const Schema review =
        Schema::object("Review").multiline_text("text", 12).required().text("title", 12);
    // clang-format on
    BOOST_TEST(problem(review, R"({"text":"one\ntwo\r\n\tx"})") == "");
    BOOST_TEST(problem(review, R"({"text":"line\r"})") ==
               "text must not contain control characters but line breaks");
    BOOST_TEST(problem(review, R"({"text":"a\u0007"})") ==
               "text must not contain control characters but line breaks");
    BOOST_TEST(problem(review, R"({"text":"a\u0085"})") ==
               "text must not contain control characters but line breaks");
    BOOST_TEST(problem(review, R"({"text":"1234567890\n\n"})") == "");  // 12 characters
    BOOST_TEST(problem(review, R"({"text":"1234567890\r\n\n"})") ==
               "text must be at most 12 characters");
    BOOST_TEST(problem(review, R"({"text":"x","title":"a\nb"})") ==  // one-line stays so
               "title must not contain control characters");
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    std::vector<const Schema*> refs;
    review.write(w, refs, true);
    BOOST_TEST(std::string(sb.GetString())
                   .find(R"("text":{"type":"string","maxLength":12,"x-multiline":true})") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(operation_ids_are_named_or_derived)
{
    core::Router r;
    auto h = [](core::Request&) { return core::Reply{}; };
    BOOST_TEST(r.add("GET", "/api/movies/{id}", core::Role::visitor, h, "x").operation() ==
               "getApiMoviesById");
    BOOST_TEST(r.add("POST", "/api/movies/", core::Role::editor, h, "x")
                   .named("createMovie")
                   .operation() == "createMovie");
    BOOST_TEST(r.add("GET", "/apitest/db_truncate", core::Role::visitor, h, "x").operation() ==
               "getApitestDbTruncate");
}

BOOST_AUTO_TEST_SUITE_END()
