// http.h: a tiny blocking HTTP client for the API tests (Boost.Beast, no extra dependency). It
// talks to nginx at $API_BASE_URL, the way a browser or a mobile app would.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace test {

struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::vector<std::string> cookies;            // every Set-Cookie value
    std::string body;
    std::string header(const std::string& lower_name) const;
};

// One request on a fresh connection. `headers` are extra request headers.
HttpReply http(const std::string& method, const std::string& target, const std::string& body = "",
               const std::map<std::string, std::string>& headers = {});
// The same from another loopback address (source_ip "127.0.0.2", ...), so that nginx's X-Real-IP
// names another client; "" = the system's choice.
HttpReply http_from(const std::string& source_ip, const std::string& method,
                    const std::string& target, const std::string& body = "",
                    const std::map<std::string, std::string>& headers = {});
HttpReply get(const std::string& target);
// Writes `bytes` as they are (a malformed request Beast would not send) and parses the reply,
// all under one 5 s deadline, so a reply that never comes fails instead of hanging.
HttpReply raw_request(const std::string& bytes);
HttpReply post_json(const std::string& target, const std::string& json);

// The stack under test, from the environment the test command exports.
std::string base_host();
int base_port();
std::string env_or(const char* name, const std::string& fallback);

}  // namespace test
