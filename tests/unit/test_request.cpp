// test_request.cpp: query, form, cookie and header parsing from CGI params.
#include <boost/test/unit_test.hpp>

#include "app/core/errors.h"
#include "app/core/request.h"

namespace {
core::Request make(std::map<std::string, std::string> cgi, std::string body = "")
{
    return core::Request(std::move(cgi), std::move(body));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(request)

BOOST_AUTO_TEST_CASE(url_decoding)
{
    BOOST_TEST(core::url_decode("a+b%20c%2Fd") == "a b c/d");
    BOOST_TEST(core::url_decode("100%") == "100%");
    BOOST_TEST(core::url_decode("%zz%4") == "%zz%4");
    BOOST_TEST(core::url_decode("%C3%A4") == "\xC3\xA4");
}

BOOST_AUTO_TEST_CASE(query_string_parsing)
{
    auto p = core::parse_urlencoded("page=2&search=the+matrix&&empty=&flag&page=3");
    BOOST_REQUIRE(p.size() == 5u);
    BOOST_TEST(p[0].first == "page");
    BOOST_TEST(p[1].second == "the matrix");
    BOOST_TEST(p[2].second == "");
    BOOST_TEST(p[3].first == "flag");
    auto req = make({{"REQUEST_METHOD", "GET"},
                     {"DOCUMENT_URI", "/x"},
                     {"QUERY_STRING", "page=2&search=a%26b&page=3"}});
    BOOST_TEST(*req.query("page") == "2");  // first value wins
    BOOST_TEST(*req.query("search") == "a&b");
    BOOST_TEST(!req.query("nope"));
}

BOOST_AUTO_TEST_CASE(query_int_bounds)
{
    auto req = make({{"QUERY_STRING", "page=5&limit=abc&neg=-1&big=99999999999999999999&e="}});
    BOOST_TEST(req.query_int("page", 1, 0, 10) == 5);
    BOOST_TEST(req.query_int("absent", 7, 0, 10) == 7);
    BOOST_TEST(req.query_int("e", 7, 0, 10) == 7);
    BOOST_CHECK_THROW(req.query_int("limit", 1, 0, 10), core::BadRequest);
    BOOST_CHECK_THROW(req.query_int("neg", 1, 0, 10), core::BadRequest);
    BOOST_CHECK_THROW(req.query_int("big", 1, 0, 10), core::BadRequest);
    BOOST_CHECK_THROW(req.query_int("page", 1, 0, 4), core::BadRequest);
}

BOOST_AUTO_TEST_CASE(form_body_only_for_form_content_type)
{
    auto form = make({{"CONTENT_TYPE", "application/x-www-form-urlencoded; charset=UTF-8"}},
                     "mode=login&email=a%40b.c&password=x+y");
    BOOST_TEST(*form.form("email") == "a@b.c");
    BOOST_TEST(*form.form("password") == "x y");
    auto json = make({{"CONTENT_TYPE", "application/json"}}, "mode=login");
    BOOST_TEST(!json.form("mode"));
}

BOOST_AUTO_TEST_CASE(cookies)
{
    auto c = core::parse_cookies(" sid=abc123; theme=\"dark\" ;bad; =x; sid=second");
    BOOST_TEST(c.at("sid") == "abc123");
    BOOST_TEST(c.at("theme") == "dark");
    BOOST_TEST(c.count("bad") == 0u);
    auto req = make({{"HTTP_COOKIE", "a=1; b=2"}});
    BOOST_TEST(*req.cookie("b") == "2");
    BOOST_TEST(!req.cookie("c"));
}

BOOST_AUTO_TEST_CASE(headers_path_and_client_ip)
{
    auto req = make({{"REQUEST_METHOD", "POST"},
                     {"REQUEST_URI", "/api/a%20b?x=1"},
                     {"CONTENT_TYPE", "application/json"},
                     {"HTTP_X_REAL_IP", "10.1.2.3"},
                     {"REMOTE_ADDR", "127.0.0.1"},
                     {"HTTP_USER_AGENT", "curl"}});
    BOOST_TEST(req.path() == "/api/a b");
    BOOST_TEST(req.client_ip() == "10.1.2.3");
    BOOST_TEST(*req.header("user-agent") == "curl");
    BOOST_TEST(*req.header("Content-Type") == "application/json");
    BOOST_TEST(req.content_type_is("application/json"));
    auto plain = make({{"REMOTE_ADDR", "127.0.0.9"}, {"DOCUMENT_URI", "/d"}});
    BOOST_TEST(plain.client_ip() == "127.0.0.9");
    BOOST_TEST(plain.path() == "/d");
}

BOOST_AUTO_TEST_CASE(json_body_is_parsed_once_and_checked)
{
    auto req = make({{"CONTENT_TYPE", "application/json"}}, R"({"title": "Matrix"})");
    BOOST_TEST(req.json_object().required_string("title") == "Matrix");
    BOOST_TEST(&req.json_object() == &req.json_object());
    auto bad = make({}, "[1,2]");
    BOOST_CHECK_THROW(bad.json_object(), core::BadRequest);
}

BOOST_AUTO_TEST_CASE(content_types_are_matched_exactly)
{
    for (const char* ok : {"application/json", "Application/JSON", " application/json ",
                           "application/json; charset=utf-8", "application/json;charset=\"UTF-8\"",
                           "application/json;"})
        BOOST_TEST_CONTEXT(ok)
        {
            BOOST_TEST(core::content_type_is(ok, "application/json"));
        }
    for (const char* bad :
         {"", "text/plain", "application/jsonx", "application/json-patch+json",
          "application/json; charset=latin1", "application/json; boundary=x",
          "multipart/form-data; boundary=application/json", "application/x-www-form-urlencoded"})
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_TEST(!core::content_type_is(bad, "application/json"));
        }
    // A form body counts only when it says it is one.
    auto as_text = make({{"CONTENT_TYPE", "text/plain"}}, "mode=login&email=a");
    BOOST_TEST(as_text.form_params().empty());
    auto as_form =
        make({{"CONTENT_TYPE", "application/x-www-form-urlencoded"}}, "mode=login&email=a");
    BOOST_TEST(as_form.form_params().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
