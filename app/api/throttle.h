// throttle.h: login and signup throttling. Failed logins are counted per email and per client IP
// in Redis windows that start at the first failure and expire with it; at the limit, logins for
// that email (or from that IP) answer 429 with Retry-After until the window ends, even with the
// right password. Signup attempts (each an scrypt run and maybe an account) are counted per
// client IP the same way, whatever their outcome.
#pragma once
#include <cstdint>
#include <string>

#include "app/core/request.h"
#include "app/core/settings.h"

namespace api {

struct ThrottleSettings {
    std::int64_t login_fail_limit_email, login_fail_limit_ip;  // failed logins before 429
    std::int64_t login_fail_window_s;                          // from the first failure
    std::int64_t signup_limit_ip, signup_window_s;             // signup attempts per IP
    static std::vector<core::Key> keys();
    static ThrottleSettings from(const core::Config& c);
};

// Seconds a login has to wait: 0 below the limit; at or over it, what is left of the window
// (ttl, from Redis), or the whole window when Redis reports no time to live. A pure function.
std::int64_t throttle_wait(std::int64_t failures, std::int64_t ttl, std::int64_t limit,
                           std::int64_t window);
// The same for the n-th attempt in a window, this one counted: 0 up to the limit-th.
std::int64_t attempt_wait(std::int64_t attempt, std::int64_t ttl, std::int64_t limit,
                          std::int64_t window);

// Throws HttpError 429 (and puts Retry-After in req.reply_headers) when the email or the
// caller's IP is locked out; one Redis round trip.
void check_login_throttle(core::Request& req, const std::string& email);
// Counts one failed login against the email and the caller's IP; one Redis round trip.
void count_login_failure(const core::Request& req, const std::string& email);

// Counts one signup attempt from the caller's IP; past signup_limit_ip attempts within
// signup_window_s, throws HttpError 429 (Retry-After in req.reply_headers). One Redis round trip.
void count_signup_attempt(core::Request& req);

std::string email_fail_key(const std::string& email);  // the counters' keys, for tests
std::string ip_fail_key(const std::string& ip);
std::string ip_signup_key(const std::string& ip);

}  // namespace api
