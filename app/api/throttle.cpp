// throttle.cpp: the failed-login and signup counters in Redis.
#include "app/api/throttle.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/text.h"
#include "app/red/red.h"

namespace api {
namespace {

const auto lg = core::logger("api.throttle");

// KEYS: the counters; ARGV[1]: the window. Counts and starts the window at the first failure;
// in one script, so a counter can never be left without its expiry (a lock for ever). Returns
// each key's count and time to live: {count1, ttl1, count2, ttl2, ...}.
const char* const kCountScript = R"(
local out = {}
for _, k in ipairs(KEYS) do
  local n = redis.call('INCR', k)
  if redis.call('TTL', k) < 0 then redis.call('EXPIRE', k, ARGV[1]) end
  out[#out + 1] = n
  out[#out + 1] = redis.call('TTL', k)
end
return out)";

struct Limits {
    std::int64_t email, ip, window;
};

Limits limits()
{
    const auto& s = core::settings<ThrottleSettings>();
    return {s.login_fail_limit_email, s.login_fail_limit_ip, s.login_fail_window_s};
}

// A counter as GET returns it: digits, or none.
std::int64_t count_or_zero(const std::optional<std::string>& s)
{
    return !s || s->empty() || s->find_first_not_of("0123456789") != std::string::npos
               ? 0
               : std::stoll(*s);
}

}  // namespace

std::vector<core::Key> ThrottleSettings::keys()
{
    using core::Key;
    constexpr std::int64_t kMax = 1000000000, kYear = 365 * 86400;
    return {Key::integer("login_fail_limit_email", 10, 1, kMax),
            Key::integer("login_fail_limit_ip", 100, 1, kMax),
            Key::integer("login_fail_window_s", 900, 1, kYear),
            Key::integer("signup_limit_ip", 10, 1, kMax),
            Key::integer("signup_window_s", 3600, 1, kYear)};
}

ThrottleSettings ThrottleSettings::from(const core::Config& c)
{
    return {c.integer("login_fail_limit_email"), c.integer("login_fail_limit_ip"),
            c.integer("login_fail_window_s"), c.integer("signup_limit_ip"),
            c.integer("signup_window_s")};
}

std::int64_t throttle_wait(std::int64_t failures, std::int64_t ttl, std::int64_t limit,
                           std::int64_t window)
{
    if (failures < limit)
        return 0;
    return ttl > 0 ? std::min(ttl, window) : window;
}

std::int64_t attempt_wait(std::int64_t attempt, std::int64_t ttl, std::int64_t limit,
                          std::int64_t window)
{
    return throttle_wait(attempt - 1, ttl, limit, window);  // the attempts before this one
}

std::string email_fail_key(const std::string& email)
{
    std::string lower;
    for (char c : email)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "login_fail:email:" + lower;
}

std::string ip_fail_key(const std::string& ip)
{
    return "login_fail:ip:" + ip;
}

std::string ip_signup_key(const std::string& ip)
{
    return "signup:ip:" + ip;
}

void check_login_throttle(core::Request& req, const std::string& email)
{
    const auto lim = limits();
    const auto ek = email_fail_key(email), ik = ip_fail_key(req.client_ip());
    const auto r = red::pipeline({{"GET", ek}, {"TTL", ek}, {"GET", ik}, {"TTL", ik}});
    const auto by_email =
        throttle_wait(count_or_zero(r[0].string()), r[1].integer(), lim.email, lim.window);
    const auto by_ip =
        throttle_wait(count_or_zero(r[2].string()), r[3].integer(), lim.ip, lim.window);
    const auto wait = std::max(by_email, by_ip);
    if (wait == 0)
        return;
    LOG4CPLUS_WARN(lg, "login throttled for " << (by_email ? "email " + core::printable(email)
                                                           : "IP " + req.client_ip())
                                              << ": retry in " << wait << " s");
    req.reply_headers.emplace_back("Retry-After", std::to_string(wait));
    throw core::HttpError(429, "Too many failed logins, try again later");
}

void count_login_failure(const core::Request& req, const std::string& email)
{
    const auto lim = limits();
    const auto r = red::eval(kCountScript, {email_fail_key(email), ip_fail_key(req.client_ip())},
                             {std::to_string(lim.window)})
                       .integers();
    if (r.size() != 4)
        return;
    if (r[0] == lim.email)
        LOG4CPLUS_WARN(lg, "login locked for email " << core::printable(email) << " after "
                                                     << lim.email << " failures");
    if (r[2] == lim.ip)
        LOG4CPLUS_WARN(
            lg, "login locked for IP " << req.client_ip() << " after " << lim.ip << " failures");
}

void count_signup_attempt(core::Request& req)
{
    const auto& s = core::settings<ThrottleSettings>();
    const auto limit = s.signup_limit_ip, window = s.signup_window_s;
    // Counted before it is checked, so that the attempts refused keep the window shut as well.
    const auto r =
        red::eval(kCountScript, {ip_signup_key(req.client_ip())}, {std::to_string(window)})
            .integers();
    if (r.size() != 2)
        throw std::runtime_error("signup counter: unexpected reply from Redis");
    const auto attempt = r[0];
    const auto wait = attempt_wait(attempt, r[1], limit, window);
    if (wait == 0)
        return;
    if (attempt == limit + 1)
        LOG4CPLUS_WARN(lg, "signups locked for IP " << req.client_ip() << " after " << limit
                                                    << " attempts: retry in " << wait << " s");
    req.reply_headers.emplace_back("Retry-After", std::to_string(wait));
    throw core::HttpError(429, "Too many signups, try again later");
}

}  // namespace api
