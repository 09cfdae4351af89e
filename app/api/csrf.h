// csrf.h: cross-site request forgery defence for the HTML forms (a double-submit token). Each
// browser gets a random token, both in a short-lived cookie (HttpOnly, SameSite=Strict,
// Path=/auth/) and in a hidden field; a post must bring the two, equal. Another site can make a
// browser post to us, but it can neither read the token nor (SameSite) have the cookie sent.
// As a second line, a post whose Origin header names another host is refused.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>

#include "app/core/request.h"
#include "app/core/settings.h"

namespace api {

struct FormTokenSettings {
    std::int64_t lifetime_s;  // form_token_lifetime_s: an older form must be reloaded
    bool secure;              // as the session cookie's (SessionSettings::cookie_secure)
    static std::vector<core::Key> keys();
    static FormTokenSettings from(const core::Config& c);
};

// The cookie's and the hidden field's name; "token" in it keeps the value out of the log
// (log_secret_keys).
constexpr const char* kCsrfName = "csrf_token";

// The token for one form page: the one in the request's cookie, else a new one. Puts its cookie
// in req.reply_headers (replacing one already there) and returns the token for the hidden field.
std::string new_form_token(core::Request& req);

// Throws core::BadRequest "form expired or posted from another site; reload the page" unless
// the form's token equals the cookie's and an Origin header, if any, names this host.
void check_form_token(const core::Request& req);

// The parts, for the unit tests.
std::string form_token_cookie(const FormTokenSettings& s, const std::string& token,
                              std::time_t now);
bool same_token(const std::string& a, const std::string& b);  // in constant time
// Origin "scheme://host[:port]" against the request's host ("host[:port]"), ports aside.
bool same_host(const std::string& origin, const std::string& host);

}  // namespace api
