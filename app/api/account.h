// account.h: the account logic behind the JSON API, the HTML forms and the admin command:
// checking a login, creating an account, the calling user, role changes.
#pragma once
#include <string>

#include "app/core/request.h"
#include "app/model/user.h"

namespace api {

// The user with this email and password. Throttled (429, see throttle.h); a wrong password and
// an unknown email both cost one scrypt run and both throw BadRequest "Invalid login
// credentials", so neither message nor timing tells them apart. 400 for an over-long or
// malformed email or password.
model::User check_login(core::Request& req, const std::string& email, const std::string& password);

struct NewAccount {
    std::string email, password, first_name, last_name;
    std::string role = "editor";  // what a signup gets
};

// Checks and inserts a new user; BadRequest with the reason: a bad field, "Signup email taken:
// <email>" (in any letter case), the password rule broken, an unknown role.
model::User create_account(const NewAccount& a);

// A visitor's signup (the JSON API and the form): counts the attempt against the caller's IP,
// 429 past the limit (see throttle.h), then create_account.
model::User signup_account(core::Request& req, const NewAccount& a);

// start_session, then the log line "<event> agent=<user agent>" (LOGIN OK, SIGNUP OK, ...).
void log_in(core::Request& req, const model::User& user, bool remember, const char* event);

// The calling user, read from the database at most once per request. A session whose user is
// gone is ended, with 401.
const model::User& get_myself(core::Request& req);

// Sets the role in the database and, at once, in every live session of the user. Returns the
// number of sessions changed. NotFound for an unknown email, BadRequest for an unknown role.
int set_role(const std::string& email, const std::string& role);

}  // namespace api
