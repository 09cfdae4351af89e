// reply.cpp: building replies and their CGI form.
#include "app/core/reply.h"

namespace core {

Reply raw_json_reply(int status, std::string json_text)
{
    Reply r;
    r.status = status;
    r.body = std::move(json_text);
    return r;
}

Reply html_reply(int status, std::string html)
{
    Reply r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(html);
    return r;
}

Reply redirect(const std::string& location, int status)
{
    Reply r = html_reply(status, "");
    r.header("Location", location);
    return r;
}

Reply error_reply(int status, const std::string& message)
{
    return raw_json_reply(status, json_member("err", std::to_string(status) + ": " + message));
}

const char* status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
    }
}

void append_cgi_head(const Reply& r, std::string& out)
{
    out += "Status: ";
    out += std::to_string(r.status);
    out += ' ';
    out += status_text(r.status);
    out += "\r\nContent-Type: ";
    out += r.content_type;
    // The length lets nginx send the reply as it is, in one write, instead of chunked with the
    // last chunk in a write of its own. A 204 or 304 must not carry one.
    if (r.status != 204 && r.status != 304) {
        out += "\r\nContent-Length: ";
        out += std::to_string(r.body.size());
    }
    out += "\r\n";
    for (const auto& [name, value] : r.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
}

std::string to_cgi(const Reply& r, bool with_body)
{
    std::string out;
    out.reserve(160 + r.body.size());
    append_cgi_head(r, out);
    if (with_body)
        out += r.body;
    return out;
}

}  // namespace core
