// test_api_nginx_errors.cpp: hostile requests that nginx refuses itself, before the app sees them,
// still get the API's error shape: that status, Content-Type application/json and
// {"err":"<status>: <message>"} (nginx/json-errors.conf). Requests Beast would not send (bad
// request lines, contradictory headers) go through raw_request(), which writes the bytes as given.
#include <boost/test/unit_test.hpp>

#include <string>

#include "tests/api/http.h"

using test::HttpReply;
using test::raw_request;

namespace {

// A well-formed request head for raw_request(), with `extra` header lines ("Name: value\r\n").
std::string head(const std::string& request_line, const std::string& extra = "")
{
    return request_line + "\r\nHost: localhost\r\n" + extra + "\r\n";
}

void check_json_error(const HttpReply& r, int status, const std::string& body)
{
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.header("content-type") == "application/json");
    BOOST_TEST(r.body == body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_nginx_errors)

BOOST_AUTO_TEST_CASE(path_over_8k_is_414)
{
    // Over large_client_header_buffers (8k): nginx cannot even read the request line.
    const auto r = test::get("/api/" + std::string(8200, 'a'));
    check_json_error(r, 414, R"({"err":"414: request URI too long"})");
}

BOOST_AUTO_TEST_CASE(cookie_over_8k_is_400)
{
    const auto r =
        test::http("GET", "/api/me", "", {{"Cookie", "session=" + std::string(9 * 1024, 'c')}});
    check_json_error(r, 400,
                     R"({"err":"400: request header or cookie too large"})");  // nginx's 494
}

BOOST_AUTO_TEST_CASE(trace_and_connect_are_405)
{
    check_json_error(test::http("TRACE", "/api/list"), 405,
                     R"({"err":"405: method TRACE not allowed on /api/list"})");
    check_json_error(test::http("CONNECT", "/api/movies/"), 405,
                     R"({"err":"405: method CONNECT not allowed on /api/movies/"})");
}

BOOST_AUTO_TEST_CASE(unknown_transfer_encoding_is_501)
{
    const auto r = raw_request(head("POST /api/movies/ HTTP/1.1", "Transfer-Encoding: gzip\r\n"));
    check_json_error(r, 501, R"({"err":"501: not implemented"})");
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_400)
{
    const std::string bad_request = R"({"err":"400: bad request"})";
    const std::pair<const char*, std::string> cases[] = {
        {"garbage request line", "GARBAGE\r\n\r\n"},
        {"lower-case method", head("get /api/list HTTP/1.1")},
        {"space in the path", head("GET /api/a b HTTP/1.1")},
        {"path above the root", head("GET /api/../../etc/passwd HTTP/1.1")},
        {"no Host in HTTP/1.1", "GET /api/list HTTP/1.1\r\n\r\n"},
        {"two Hosts", head("GET /api/list HTTP/1.1", "Host: other\r\n")},
        {"Host with a slash", "GET /api/list HTTP/1.1\r\nHost: a/b\r\n\r\n"},
        {"NUL in a header", head("GET /api/list HTTP/1.1", std::string("X-A: a\0b\r\n", 10))},
        {"bad Content-Length", head("POST /api/movies/ HTTP/1.1", "Content-Length: abc\r\n")},
        {"Content-Length and chunked",
         head("POST /api/movies/ HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") +
             "0\r\n\r\n"},
        {"chunked in HTTP/1.0",
         head("POST /api/movies/ HTTP/1.0", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n"},
        {"bad chunk size",
         head("POST /api/movies/ HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "zz\r\n\r\n"},
    };
    for (const auto& [name, bytes] : cases) {
        BOOST_TEST_CONTEXT(name)
        {
            check_json_error(raw_request(bytes), 400, bad_request);
        }
    }
}

BOOST_AUTO_TEST_CASE(http_2_request_line_is_505)
{
    // HTTP/2 is not spoken on this port: nginx refuses the version in an HTTP/1 request line.
    check_json_error(raw_request(head("GET /api/list HTTP/2.0")), 505,
                     R"({"err":"505: HTTP version not supported"})");
}

BOOST_AUTO_TEST_CASE(declared_body_over_1m_is_413)
{
    // nginx refuses on the Content-Length alone (client_max_body_size 1m), before any body.
    const auto r =
        raw_request(head("POST /api/movies/ HTTP/1.1",
                         "Content-Type: application/json\r\nContent-Length: 2000000\r\n"));
    check_json_error(r, 413, R"({"err":"413: request body too large"})");
}

BOOST_AUTO_TEST_CASE(no_app_behind_the_socket_is_502)
{
    // No test instance runs between test cases: nginx finds nobody on run/instance.sock.
    check_json_error(test::get("/testinstance/api/list"), 502, R"({"err":"502: bad gateway"})");
}

BOOST_AUTO_TEST_CASE(static_file_errors_keep_the_shape)
{
    check_json_error(test::http("POST", "/robots.txt"), 405,
                     R"({"err":"405: method POST not allowed on /robots.txt"})");
    const auto range = test::http("GET", "/robots.txt", "", {{"Range", "bytes=99999-"}});
    check_json_error(range, 416, R"({"err":"416: range not satisfiable"})");
    BOOST_TEST(range.header("content-range").rfind("bytes */", 0) == 0u);  // nginx's own, kept
    const auto stale = test::http("GET", "/robots.txt", "",
                                  {{"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:01 GMT"}});
    check_json_error(stale, 412, R"({"err":"412: precondition failed"})");
}

BOOST_AUTO_TEST_CASE(nginx_404_is_json_whatever_the_extension)
{
    check_json_error(test::get("/nothing.html"), 404, R"({"err":"404: /nothing.html"})");
    // The error pages themselves are internal: asked for, they are just not found.
    check_json_error(test::get("/nginx-error/400"), 404, R"({"err":"404: /nginx-error/400"})");
}

BOOST_AUTO_TEST_SUITE_END()
