// reply.h: what a handler returns; the FastCGI loop writes it as CGI headers plus body.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "app/core/json.h"

namespace core {

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers, Set-Cookie too

    void header(std::string name, std::string value)
    {
        headers.emplace_back(std::move(name), std::move(value));
    }
};

// A reply from JSON text already serialised.
Reply raw_json_reply(int status, std::string json_text);

// A reply from anything with `void to_json(JsonWriter&) const`, or a vector of such.
template <typename T>
Reply json_reply(int status, const T& obj)
{
    return raw_json_reply(status, to_json(obj));
}
template <typename T>
Reply json_reply(int status, const std::vector<T>& items)
{
    return raw_json_reply(status, to_json_array(items));
}

Reply html_reply(int status, std::string html);
Reply redirect(const std::string& location, int status = 302);
// RESTPie3's error shape: {"err": "404: /the/path"}.
Reply error_reply(int status, const std::string& message);

const char* status_text(int status);
// "Status: 200 OK\r\nContent-Type: ...\r\n...\r\n\r\n" followed by the body.
std::string to_cgi(const Reply& r, bool with_body = true);
// The same without the body, appended to out (the FastCGI loop reuses one buffer).
void append_cgi_head(const Reply& r, std::string& out);

}  // namespace core
