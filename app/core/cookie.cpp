// cookie.cpp: Set-Cookie values (RFC 6265 syntax, checked rather than escaped).
#include "app/core/cookie.h"

#include <algorithm>
#include <stdexcept>

namespace core {
namespace {

// RFC 6265 cookie-octet: visible ASCII but for space, '"', ',', ';' and '\'.
constexpr std::int64_t kMaxCookieAge = 400 * 86400;

bool cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

// A token (RFC 7230): visible ASCII but for separators.
bool token_char(unsigned char c)
{
    return cookie_octet(c) &&
           std::string("()<>@:/[]?={}").find(static_cast<char>(c)) == std::string::npos;
}

void check(const std::string& s, bool (*ok)(unsigned char), const char* what)
{
    if (!std::all_of(s.begin(), s.end(), [&](char c) { return ok(static_cast<unsigned char>(c)); }))
        throw std::invalid_argument(std::string("cookie ") + what +
                                    " has a character a cookie cannot carry");
}

}  // namespace

std::string http_date(std::time_t t)
{
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);  // C locale names
    return buf;
}

std::string set_cookie_header(const Cookie& c, std::time_t now)
{
    if (c.name.empty())
        throw std::invalid_argument("cookie name is empty");
    check(c.name, token_char, "name");
    check(c.value, cookie_octet, "value");
    check(c.domain, cookie_octet, "domain");
    check(c.path, cookie_octet, "path");
    std::string out = c.name + "=" + c.value + "; Path=" + c.path;
    if (c.max_age) {
        // Browsers cap a cookie's life at 400 days (RFC 6265bis), and a bigger one would
        // overflow the Expires date.
        const auto age = std::clamp<std::int64_t>(*c.max_age, 0, kMaxCookieAge);
        out += "; Max-Age=" + std::to_string(age);
        out += "; Expires=" + http_date(age == 0 ? 0 : now + static_cast<std::time_t>(age));
    }
    if (!c.domain.empty())
        out += "; Domain=" + c.domain;
    if (c.http_only)
        out += "; HttpOnly";
    if (c.secure)
        out += "; Secure";
    if (!c.same_site.empty())
        out += "; SameSite=" + c.same_site;
    return out;
}

}  // namespace core
