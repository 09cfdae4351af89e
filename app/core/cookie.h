// cookie.h: the Set-Cookie header value, built in one place so every cookie carries the same flags.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace core {

struct Cookie {
    std::string name, value;
    std::string domain;  // "" = host-only (no Domain attribute)
    std::string path = "/";
    std::optional<std::int64_t> max_age;  // seconds; nullopt = ends with the browser; 0 = delete
    bool http_only = true;
    bool secure = false;
    std::string same_site = "Lax";  // "" = no SameSite attribute
};

// "name=value; Path=/; Max-Age=N; Expires=<date>; Domain=d; HttpOnly; Secure; SameSite=Lax".
// Expires goes with Max-Age for old browsers; a Max-Age of 0 expires in 1970. Throws
// std::invalid_argument when name or value has characters a cookie cannot carry unquoted.
std::string set_cookie_header(const Cookie& c, std::time_t now);

// The HTTP date format of RFC 7231: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t t);

}  // namespace core
