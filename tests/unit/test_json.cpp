// test_json.cpp: body parsing rules and the small writers.
#include <boost/test/unit_test.hpp>

#include "app/core/errors.h"
#include "app/core/json.h"

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(object_fields_with_types)
{
    auto o = core::JsonObject::parse(R"({"s": "x", "b": true, "i": 42, "n": null, "f": 1.5})");
    BOOST_TEST(o.required_string("s") == "x");
    BOOST_TEST(*o.optional_bool("b"));
    BOOST_TEST(*o.optional_int("i") == 42);
    BOOST_TEST(!o.optional_string("n"));  // null counts as absent
    BOOST_TEST(!o.has("n"));
    BOOST_CHECK_THROW(o.required_string("missing"), core::BadRequest);
    BOOST_CHECK_THROW(o.required_string("i"), core::BadRequest);
    BOOST_CHECK_THROW(o.optional_bool("s"), core::BadRequest);
    BOOST_CHECK_THROW(o.optional_int("f"), core::BadRequest);
    BOOST_TEST(o.keys().size() == 5u);
}

BOOST_AUTO_TEST_CASE(bad_bodies_are_bad_requests)
{
    for (const char* text : {"", "{", "[]", "\"str\"", "12", "{\"a\":1} trailing", "{'a':1}",
                             "{\"a\":\"\xff\xfe\"}"}) {
        BOOST_TEST_CONTEXT("body: " << text) { BOOST_CHECK_THROW(core::JsonObject::parse(text), core::BadRequest); }
    }
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_crash)
{
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    BOOST_CHECK_THROW(core::JsonObject::parse(deep), core::BadRequest);  // valid JSON, not an object
    BOOST_TEST(core::is_valid_json(deep));
}

BOOST_AUTO_TEST_CASE(writers_escape)
{
    BOOST_TEST(core::json_member("err", "404: /a\"b") == R"({"err":"404: /a\"b"})");
    BOOST_TEST(core::json_member("counter", std::int64_t{7}) == R"({"counter":7})");
    BOOST_TEST(core::json_escape("line\nbreak") == R"("line\nbreak")");
    BOOST_TEST(core::is_valid_json("{\"a\": [1, 2]}"));
    BOOST_TEST(!core::is_valid_json("{a: 1}"));
}

BOOST_AUTO_TEST_SUITE_END()
