// test_text.cpp: UTF-8 validation, lengths, one-line field rules, log-safe text, input checks.
#include <boost/test/unit_test.hpp>

#include "app/api/input.h"
#include "app/core/errors.h"
#include "app/core/text.h"

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(utf8_validation)
{
    BOOST_TEST(core::valid_utf8(""));
    BOOST_TEST(core::valid_utf8("plain ascii"));
    BOOST_TEST(core::valid_utf8("Mickelsson \xc3\xa4\xc3\xb6 \xe2\x82\xac \xf0\x9f\x8e\xac"));
    BOOST_TEST(!core::valid_utf8("\xff"));
    BOOST_TEST(!core::valid_utf8("\x80"));              // a lone continuation byte
    BOOST_TEST(!core::valid_utf8("\xc3"));              // cut short
    BOOST_TEST(!core::valid_utf8("\xe2\x82"));          // cut short
    BOOST_TEST(!core::valid_utf8("\xc0\xaf"));          // overlong '/'
    BOOST_TEST(!core::valid_utf8("\xe0\x80\xaf"));      // overlong
    BOOST_TEST(!core::valid_utf8("\xed\xa0\x80"));      // a surrogate
    BOOST_TEST(!core::valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    BOOST_TEST(!core::valid_utf8("ok\xc3("));
}

BOOST_AUTO_TEST_CASE(lengths_count_characters)
{
    BOOST_TEST(core::utf8_length("abc") == 3u);
    BOOST_TEST(core::utf8_length("\xc3\xa4\xe2\x82\xac\xf0\x9f\x8e\xac") == 3u);
}

BOOST_AUTO_TEST_CASE(line_rules)
{
    BOOST_TEST(!core::line_problem("Tomi M\xc3\xa4kinen", 100));
    BOOST_TEST(!core::line_problem(std::string(100, 'a'), 100));
    BOOST_TEST(*core::line_problem(std::string(101, 'a'), 100) == "must be at most 100 characters");
    BOOST_TEST(!core::line_problem("\xc3\xa4\xc3\xa4", 2));  // characters, not bytes
    BOOST_TEST(*core::line_problem(std::string("a\0b", 3), 10) ==
               "must not contain control characters");
    BOOST_TEST(*core::line_problem("a\nb", 10) == "must not contain control characters");
    BOOST_TEST(*core::line_problem("\xff", 10) == "must be valid UTF-8");
    // C1 controls (U+0080-U+009F), e.g. NEL U+0085; U+00A0 and up are text.
    for (const char* c1 : {"a\xc2\x85", "\xc2\x80", "x\xc2\x9fy"})
        BOOST_TEST(*core::line_problem(c1, 10) == "must not contain control characters");
    BOOST_TEST(!core::line_problem("\xc2\xa0\xc2\xa9 \xc3\x85", 10));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced_for_echoes)
{
    BOOST_TEST(core::to_valid_utf8("ok \xc3\xa4") == "ok \xc3\xa4");
    BOOST_TEST(core::to_valid_utf8("\xff\xfe") == "\xef\xbf\xbd\xef\xbf\xbd");
    BOOST_TEST(core::to_valid_utf8("a\xed\xa0\x80"
                                   "b") ==
               "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
               "b");
    BOOST_TEST(core::to_valid_utf8("cut \xe2\x82") == "cut \xef\xbf\xbd\xef\xbf\xbd");
    BOOST_TEST(core::valid_utf8(core::printable("\xc0\xaf\n")));
}

BOOST_AUTO_TEST_CASE(printable_for_logs)
{
    BOOST_TEST(core::printable("agent\r\nFAKE LINE") == "agent??FAKE LINE");
    BOOST_TEST(core::printable(std::string(500, 'x'), 200).size() == 200u);
}

BOOST_AUTO_TEST_CASE(input_checks_name_the_field)
{
    BOOST_CHECK_NO_THROW(api::only_fields({"title", "id"}, {"title", "director", "id"}));
    try {
        api::only_fields({"title", "colour"}, {"title"});
        BOOST_FAIL("no throw");
    } catch (const core::BadRequest& e) {
        BOOST_TEST(std::string(e.what()) == "unknown field: colour");
    }
    try {
        api::check_line("email", std::string(255, 'a'), api::kMaxEmail);
        BOOST_FAIL("no throw");
    } catch (const core::BadRequest& e) {
        BOOST_TEST(std::string(e.what()) == "email must be at most 254 characters");
    }
    const auto in = core::JsonObject::parse(R"({"title":"ok","director":"a\u0000b"})");
    BOOST_TEST(*api::line_field(in, "title", 10) == "ok");
    BOOST_TEST(!api::line_field(in, "nothing", 10));
    BOOST_CHECK_THROW(api::line_field(in, "director", 10), core::BadRequest);
    BOOST_CHECK_THROW(api::line_field(in, "title", 1), core::BadRequest);
}

BOOST_AUTO_TEST_SUITE_END()
