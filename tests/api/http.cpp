// http.cpp: the Beast client behind test::http.
#include "tests/api/http.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace test {
namespace beast = boost::beast;

std::string env_or(const char* name, const std::string& fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

namespace {
// "http://127.0.0.1:8101" -> host and port.
using Response = beast::http::response<beast::http::string_body>;

HttpReply reply_from(const Response& res)
{
    HttpReply out;
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "set-cookie")
            out.cookies.emplace_back(f.value());
        out.headers[name] = std::string(f.value());
    }
    return out;
}

std::pair<std::string, int> parse_base()
{
    std::string url = env_or("API_BASE_URL", "http://127.0.0.1:8101");
    if (url.rfind("http://", 0) == 0)
        url = url.substr(7);
    const auto colon = url.rfind(':');
    if (colon == std::string::npos)
        return {url, 80};
    return {url.substr(0, colon), std::atoi(url.substr(colon + 1).c_str())};
}
}  // namespace

std::string base_host()
{
    return parse_base().first;
}

int base_port()
{
    return parse_base().second;
}

std::string HttpReply::header(const std::string& lower_name) const
{
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
}

HttpReply http(const std::string& method, const std::string& target, const std::string& body,
               const std::map<std::string, std::string>& headers)
{
    return http_from("", method, target, body, headers);
}

// Writes `message` (an http::request, or raw bytes in a buffer) on a connected stream and reads
// the reply, all as async operations under one deadline: Beast's timeouts do not apply to
// blocking calls, so a server that never answers would hang the suite.
template <typename Write>
HttpReply exchange(boost::asio::io_context& io, beast::tcp_stream& stream, int seconds, Write write)
{
    stream.expires_after(std::chrono::seconds(seconds));
    beast::flat_buffer buffer;
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code result;
    write([&](beast::error_code ec, std::size_t) {
        if (ec) {
            result = ec;
            return;
        }
        beast::http::async_read(stream, buffer, parser,
                                [&](beast::error_code ec, std::size_t) { result = ec; });
    });
    io.run();
    if (result)  // the test case fails with this message
        throw std::runtime_error("no HTTP reply: " + result.message());
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    return reply_from(parser.get());
}

HttpReply http_from(const std::string& source_ip, const std::string& method,
                    const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers)
{
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    const auto endpoints =
        boost::asio::ip::tcp::resolver(io).resolve(base_host(), std::to_string(base_port()));
    if (source_ip.empty()) {
        stream.connect(endpoints);
    } else {  // bound first; connecting to one endpoint keeps the socket (a range reopens it)
        const auto source = boost::asio::ip::make_address(source_ip);
        using boost::asio::ip::tcp;
        stream.socket().open(source.is_v4() ? tcp::v4() : tcp::v6());
        stream.socket().bind({source, 0});
        stream.connect(endpoints.begin()->endpoint());
    }

    beast::http::request<beast::http::string_body> req{beast::http::string_to_verb(method), target,
                                                       11};
    req.set(beast::http::field::host, base_host());
    req.set(beast::http::field::user_agent, "restpie-api-tests");
    for (const auto& [k, v] : headers)
        req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT") {
        req.body() = body;
        req.prepare_payload();
    }
    // Above the server's 20 s harakiri and nginx's 30 s read timeout: a slow reply a test
    // expects still arrives.
    return exchange(io, stream, 40,
                    [&](auto on_written) { beast::http::async_write(stream, req, on_written); });
}

HttpReply raw_request(const std::string& bytes)
{
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(
        boost::asio::ip::tcp::resolver(io).resolve(base_host(), std::to_string(base_port())));
    return exchange(io, stream, 5, [&](auto on_written) {
        boost::asio::async_write(stream, boost::asio::buffer(bytes), on_written);
    });
}

HttpReply get(const std::string& target)
{
    return http("GET", target);
}

HttpReply post_json(const std::string& target, const std::string& json)
{
    return http("POST", target, json, {{"Content-Type", "application/json"}});
}

}  // namespace test
