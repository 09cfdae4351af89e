// accounts.h: helpers for the API tests that need users and sessions: unique emails, test
// passwords (all carrying one marker, which the log test greps for), logins and the session
// cookie, direct looks into Redis, and the admin command.
#pragma once
#include <map>
#include <string>

#include <rapidjson/document.h>

#include "tests/api/http.h"

namespace test {

// In every test password, and so in no log line (test_zz_log.cpp checks).
constexpr const char* kPasswordMark = "Qz8Mark";

std::string unique_email(const std::string& tag);  // unique per run and call
std::string password(const std::string& tag);      // follows the rules; carries kPasswordMark

struct Account {
    std::string id, email, password;
};
// A user made through the model (the admin command's code), not logged in.
Account make_account(const std::string& role, const std::string& tag);

std::string cookie_name();                       // the configured session cookie name
std::string session_cookie(const HttpReply& r);  // its Set-Cookie value, "" when none
std::string session_id(const HttpReply& r);      // the id in it, "" when none
HttpReply login(const std::string& email, const std::string& pw, const std::string& extra_json = "",
                const std::map<std::string, std::string>& headers = {});
// Logs in and REQUIREs success, after clearing the local IP's throttle counters, which every
// test shares (so the failed logins and signups of tests before it cannot lock it out).
std::string login_id(const Account& a);
// A request that carries the session cookie (sid "" = none).
HttpReply with_session(const std::string& sid, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       std::map<std::string, std::string> headers = {});

// The HTML forms' token (app/api/csrf.h) as a browser keeps it after loading a form page: in
// the cookie and in the hidden field.
struct FormToken {
    std::string cookie, field;
};
FormToken open_form(const std::string& page = "/auth/login");  // GETs it; REQUIREs both, equal
std::string token_cookie(const HttpReply& r);      // the token cookie's value, "" when none
std::string token_field(const std::string& page);  // the hidden field's value, "" when none

rapidjson::Document parse(const HttpReply& r);  // REQUIREs valid JSON
std::string str(const rapidjson::Value& v, const char* key);

long long redis_ttl(const std::string& key);
// The local IP's counters (failed logins, signups), and the email's.
void clear_login_throttle(const std::string& email = "");

// Runs the admin binary with the test stack's environment; returns its exit status.
int run_admin(const std::string& args, const std::string& stdin_text = "");

}  // namespace test
