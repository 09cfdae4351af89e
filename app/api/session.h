// session.h: server-side sessions in Redis. The cookie holds only a random 256-bit id; the
// session (user id, role, login IP and user agent) lives under session:<id>, renewed by a request
// once 1/32 of its lifetime has passed (not on every request: a write saved). user_sessions:<user
// id> indexes each user's session ids, so that a role change reaches the user's live sessions at
// once. Visitors get no session, no cookie, no Redis call.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "app/core/request.h"
#include "app/core/settings.h"
#include "app/model/user.h"

namespace api {

struct SessionSettings {
    std::string cookie_name;        // session_cookie_name
    bool cookie_secure;             // session_cookie_secure; never in local development (no TLS)
    std::string cookie_domain;      // session_cookie_domain; "": the host only
    std::int64_t lifetime_s;        // session_lifetime_s: a remembered session, renewed by activity
    std::int64_t short_lifetime_s;  // session_short_lifetime_s: a `remember: false` session
    static std::vector<core::Key> keys();
    static SessionSettings from(const core::Config& c);
};

// The dispatcher's session loader. A valid cookie of a live session fills req.session, renews
// the session (and, when remembered, the cookie); anything else leaves a visitor. A disabled
// account's session is dropped here and the dispatcher refuses the request.
void load_session(core::Request& req);

// Login, signup, password reset: destroys the caller's old session and starts a new one, with a
// new id, in the cookie. remember: a 30-day cookie (session_lifetime_s), renewed by activity;
// else a cookie without expiry and a short server-side life (session_short_lifetime_s).
// Throws core::AccountDisabled for a disabled user. Sets req.session and the log context.
void start_session(core::Request& req, const model::User& user, bool remember);

// Logout: deletes the caller's session and expires the cookie.
void end_session(core::Request& req);

// Writes role into every live session of the user and returns how many there were.
int set_session_role(const std::string& user_id, const std::string& role);
// Deletes every session of the user (after a password reset) and returns how many.
int end_user_sessions(const std::string& user_id);

// The Set-Cookie value of the session cookie under settings s: its name, HttpOnly, SameSite=Lax,
// Path=/, Secure when s.cookie_secure, Domain when configured.
// max_age: nullopt = until the browser closes, 0 = delete.
std::string session_cookie(const SessionSettings& s, const std::string& id,
                           std::optional<std::int64_t> max_age, std::time_t now);

std::string session_key(const std::string& id);             // "session:<id>"
std::string user_sessions_key(const std::string& user_id);  // "user_sessions:<user id>"

// The caller's User-Agent as stored in the session and written to the log (log-safe, capped).
std::string client_agent(const core::Request& req);

}  // namespace api
