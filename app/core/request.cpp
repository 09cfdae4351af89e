// request.cpp: parsing of query strings, forms, cookies and headers out of the CGI params.
#include "app/core/request.h"

#include <algorithm>
#include <cctype>

#include "app/core/errors.h"

namespace core {
namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool same_lower(std::string_view text, std::string_view lower)
{
    return text.size() == lower.size() &&
           std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

}  // namespace

bool content_type_is(std::string_view header, std::string_view media_type)
{
    auto semi = header.find(';');
    if (!same_lower(trim(header.substr(0, semi)), media_type))
        return false;
    while (semi != std::string_view::npos) {
        header.remove_prefix(semi + 1);
        semi = header.find(';');
        const auto param = trim(header.substr(0, semi));
        if (param.empty())
            continue;
        const auto eq = param.find('=');
        if (eq == std::string_view::npos || !same_lower(trim(param.substr(0, eq)), "charset"))
            return false;
        auto value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (!same_lower(value, "utf-8"))
            return false;
    }
    return true;
}

std::string url_decode(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;  // a stray '%' stays as it is, like most servers do
        }
    }
    return out;
}

Params parse_urlencoded(std::string_view text)
{
    Params out;
    while (!text.empty()) {
        const auto amp = text.find('&');
        const auto pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos)
            out.emplace_back(url_decode(pair), "");
        else
            out.emplace_back(url_decode(pair.substr(0, eq)), url_decode(pair.substr(eq + 1)));
    }
    return out;
}

std::map<std::string, std::string> parse_cookies(std::string_view header)
{
    std::map<std::string, std::string> out;
    while (!header.empty()) {
        const auto semi = header.find(';');
        const auto item = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            continue;
        auto value = trim(item.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        out.emplace(std::string(trim(item.substr(0, eq))), std::string(value));  // first wins
    }
    return out;
}

Request::Request(std::map<std::string, std::string> cgi, std::string body)
    : owned_(std::move(cgi)), body_(std::move(body))
{
    cgi_.reserve(owned_.size());
    for (const auto& [k, v] : owned_)
        cgi_.emplace_back(k, v);
    parse_cgi();
}

Request::Request(Borrowed, CgiParams cgi, std::string body)
    : cgi_(std::move(cgi)), body_(std::move(body))
{
    parse_cgi();
}

Request Request::borrowing(CgiParams cgi, std::string body)
{
    return Request(Borrowed{}, std::move(cgi), std::move(body));
}

void Request::parse_cgi()
{
    method_ = param("REQUEST_METHOD");
    // nginx's DOCUMENT_URI is the decoded, normalised path; REQUEST_URI is the raw fallback.
    path_ = param("DOCUMENT_URI");
    if (path_.empty()) {
        const auto uri = param("REQUEST_URI");
        path_ = url_decode(uri.substr(0, uri.find('?')));
    }
    if (path_.empty())
        path_ = "/";
    // nginx sets X-Real-IP from the peer address (clients cannot spoof it); REMOTE_ADDR otherwise.
    client_ip_ = param("HTTP_X_REAL_IP");
    if (client_ip_.empty())
        client_ip_ = param("REMOTE_ADDR");
    query_ = parse_urlencoded(param("QUERY_STRING"));
}

std::string_view Request::param(std::string_view cgi_name) const
{
    for (const auto& [k, v] : cgi_)
        if (k == cgi_name)
            return v;
    return {};
}

std::optional<std::string> Request::header(const std::string& name) const
{
    std::string key;
    for (char c : name)
        key += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (key != "CONTENT_TYPE" && key != "CONTENT_LENGTH")
        key = "HTTP_" + key;
    for (const auto& [k, v] : cgi_)
        if (k == key)
            return std::string(v);
    return std::nullopt;
}

std::optional<std::string> Request::cookie(const std::string& name) const
{
    if (!cookies_)
        cookies_ = parse_cookies(param("HTTP_COOKIE"));
    auto it = cookies_->find(name);
    if (it == cookies_->end())
        return std::nullopt;
    return it->second;
}

static std::optional<std::string> first(const Params& params, const std::string& key)
{
    for (const auto& [k, v] : params)
        if (k == key)
            return v;
    return std::nullopt;
}

std::optional<std::string> Request::query(const std::string& key) const
{
    return first(query_, key);
}

std::int64_t Request::query_int(const std::string& key, std::int64_t def, std::int64_t lo,
                                std::int64_t hi) const
{
    const auto text = query(key);
    if (!text || text->empty())
        return def;
    const auto bad = BadRequest(key + " must be a whole number from " + std::to_string(lo) +
                                " to " + std::to_string(hi));
    if (text->size() > 18 || !std::all_of(text->begin(), text->end(), ::isdigit))
        throw bad;
    const auto v = std::stoll(*text);
    if (v < lo || v > hi)
        throw bad;
    return v;
}

const Params& Request::form_params() const
{
    if (!form_)
        form_ = content_type_is("application/x-www-form-urlencoded") ? parse_urlencoded(body_)
                                                                     : Params{};
    return *form_;
}

std::optional<std::string> Request::form(const std::string& key) const
{
    return first(form_params(), key);
}

void Request::put_cookie(const std::string& name, std::string set_cookie_value)
{
    const auto prefix = name + "=";
    auto& h = reply_headers;
    h.erase(std::remove_if(h.begin(), h.end(),
                           [&](const auto& kv) {
                               return kv.first == "Set-Cookie" && kv.second.rfind(prefix, 0) == 0;
                           }),
            h.end());
    h.emplace_back("Set-Cookie", std::move(set_cookie_value));
}

const JsonObject& Request::json_object() const
{
    if (!json_)
        json_ = std::make_shared<const JsonObject>(JsonObject::parse(body_));
    return *json_;
}

bool Request::content_type_is(std::string_view media_type) const
{
    return core::content_type_is(param("CONTENT_TYPE"), media_type);
}

}  // namespace core
