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
        BOOST_TEST_CONTEXT("body: " << text)
        {
            BOOST_CHECK_THROW(core::JsonObject::parse(text), core::BadRequest);
        }
    }
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_crash)
{
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    BOOST_CHECK_THROW(core::JsonObject::parse(deep),
                      core::BadRequest);  // valid JSON, not an object
    BOOST_TEST(core::is_valid_json(deep));
}

// Issue 8: a NUL byte ended the parse, so whatever came after it was never looked at.
BOOST_AUTO_TEST_CASE(a_nul_byte_is_not_the_end_of_the_body)
{
    const std::string body("{\"title\":\"x\"}\0{\"garbage\":", 25);  // 13 + NUL + 11 bytes
    try {
        core::JsonObject::parse(body);
        BOOST_FAIL("no throw");
    } catch (const core::BadRequest& e) {
        BOOST_TEST(std::string(e.what()) == "malformed JSON: NUL byte at offset 13");
    }
    BOOST_CHECK_THROW(core::JsonObject::parse(std::string("{}\0", 3)), core::BadRequest);
    BOOST_TEST(!core::is_valid_json(std::string("1\0", 2)));
    // Written as an escape, NUL is a character like any other (the field checks refuse it).
    BOOST_TEST(core::JsonObject::parse(R"({"a":"x\u0000y"})").required_string("a").size() == 3u);
}

BOOST_AUTO_TEST_CASE(nesting_is_capped_and_the_reply_names_the_cap)
{
    auto nested = [](int depth) {  // {"x": [[...]]}, depth levels in all
        return "{\"x\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    };
    BOOST_CHECK_NO_THROW(core::JsonObject::parse(nested(core::kMaxJsonDepth)));
    for (int depth : {core::kMaxJsonDepth + 1, 100000}) {
        try {
            core::JsonObject::parse(nested(depth));
            BOOST_FAIL("no throw at depth " << depth);
        } catch (const core::BadRequest& e) {
            BOOST_TEST(std::string(e.what()) == "malformed JSON: nested deeper than 64 levels");
        }
    }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused_at_any_depth)
{
    try {
        core::JsonObject::parse(R"({"role":"editor","role":"superuser"})");
        BOOST_FAIL("no throw");
    } catch (const core::BadRequest& e) {
        BOOST_TEST(std::string(e.what()) == R"(malformed JSON: duplicate key "role")");
    }
    BOOST_CHECK_THROW(core::JsonObject::parse(R"({"a":[{"b":1,"c":2,"b":3}]})"), core::BadRequest);
    BOOST_CHECK_NO_THROW(core::JsonObject::parse(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"));
}

// Found by the json fuzzer: RapidJSON 1.1 turns a lone low surrogate escape into bytes that are
// not UTF-8, which then reached the field checks as if they were text.
BOOST_AUTO_TEST_CASE(lone_surrogates_are_refused)
{
    for (const char* body :
         {R"({"a":"\udc00"})", R"({"\udfff":1})", R"({"a":["x\udc80"]})", R"({"a":"\ud800"})"})
        BOOST_TEST_CONTEXT(body)
        {
            BOOST_CHECK_THROW(core::JsonObject::parse(body), core::BadRequest);
        }
    BOOST_TEST(core::JsonObject::parse(R"({"a":"\ud83c\udfac"})").required_string("a") ==
               "\xf0\x9f\x8e\xac");
}

BOOST_AUTO_TEST_CASE(writers_escape)
{
    BOOST_TEST(core::json_member("err", "404: /a\"b") == R"({"err":"404: /a\"b"})");
    BOOST_TEST(core::json_member("counter", std::int64_t{7}) == R"({"counter":7})");
    BOOST_TEST(core::json_escape("line\nbreak") == R"("line\nbreak")");
    // Issue 8: bytes that are not UTF-8 went out raw inside a JSON string.
    BOOST_TEST(core::json_member("err", "404: movie \xff\xfe") ==
               "{\"err\":\"404: movie \xef\xbf\xbd\xef\xbf\xbd\"}");
    BOOST_TEST(core::is_valid_json("{\"a\": [1, 2]}"));
    BOOST_TEST(!core::is_valid_json("{a: 1}"));
}

BOOST_AUTO_TEST_SUITE_END()
