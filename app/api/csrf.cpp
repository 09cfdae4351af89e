// csrf.cpp: the form tokens of csrf.h.
#include "app/api/csrf.h"

#include <algorithm>
#include <cctype>

#include "app/api/session.h"
#include "app/core/cookie.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/password.h"
#include "app/core/text.h"

namespace api {
namespace {

const auto lg = core::logger("api.csrf");
constexpr std::size_t kTokenBytes = 16;  // 128 bits from getrandom(2)

bool is_token(const std::string& s)
{
    return s.size() == 2 * kTokenBytes &&
           s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// "host[:port]" or "[v6]:port" -> the host in lower case, the port dropped.
std::string host_part(std::string authority)
{
    const auto colon = authority.rfind(':');
    const bool port = colon != std::string::npos && colon + 1 < authority.size() &&
                      authority.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
                      (authority[0] != '[' || authority[colon - 1] == ']');
    if (port)
        authority.erase(colon);
    std::transform(authority.begin(), authority.end(), authority.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return authority;
}

[[noreturn]] void refuse(const std::string& why)
{
    LOG4CPLUS_WARN(lg, "form post refused: " << why);
    throw core::BadRequest("form expired or posted from another site; reload the page");
}

}  // namespace

std::vector<core::Key> FormTokenSettings::keys()
{
    return {core::Key::integer("form_token_lifetime_s", 3600, 1, 7 * 86400)};
}

FormTokenSettings FormTokenSettings::from(const core::Config& c)
{
    return {c.integer("form_token_lifetime_s"), SessionSettings::from(c).cookie_secure};
}

std::string form_token_cookie(const FormTokenSettings& s, const std::string& token, std::time_t now)
{
    core::Cookie k;
    k.name = kCsrfName;
    k.value = token;
    k.path = "/auth/";  // sent with the form posts only
    k.max_age = s.lifetime_s;
    k.secure = s.secure;
    k.same_site = "Strict";  // never sent with a post that another site starts
    return core::set_cookie_header(k, now);
}

std::string new_form_token(core::Request& req)
{
    // A browser that already holds a token keeps it (its expiry renewed), so two forms open in
    // two tabs both post; a token the attacker could know is no weaker for being reused.
    auto token = req.cookie(kCsrfName).value_or("");
    if (!is_token(token))
        token = core::random_token(kTokenBytes);
    req.put_cookie(kCsrfName, form_token_cookie(core::settings<FormTokenSettings>(), token,
                                                std::time(nullptr)));
    return token;
}

bool same_token(const std::string& a, const std::string& b)
{
    if (a.size() != b.size())  // the length is no secret: every token has the same
        return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool same_host(const std::string& origin, const std::string& host)
{
    const auto scheme = origin.find("://");
    if (scheme == std::string::npos || host.empty())
        return false;  // "null" (a sandboxed frame, a file) or no host to compare with
    const auto authority = origin.substr(scheme + 3);
    return !authority.empty() && authority.find('/') == std::string::npos &&
           host_part(authority) == host_part(host);
}

void check_form_token(const core::Request& req)
{
    if (const auto origin = req.header("Origin")) {
        // X-Real-Host is nginx's $host; Host itself when the app runs without nginx.
        const auto host = req.header("X-Real-Host").value_or(req.header("Host").value_or(""));
        if (!same_host(*origin, host))
            refuse("Origin " + core::printable(*origin, 100) + " is not " +
                   core::printable(host, 100));
    }
    const auto cookie = req.cookie(kCsrfName).value_or("");
    const auto field = req.form(kCsrfName).value_or("");
    if (!is_token(cookie))
        refuse(cookie.empty() ? "no token cookie" : "a token cookie we never made");
    if (!same_token(cookie, field))
        refuse(field.empty() ? "no token in the form" : "the form's token is not the cookie's");
}

}  // namespace api
