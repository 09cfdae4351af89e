// api_account.cpp: login, signup, logout and the caller's own account, as in RESTPie3. Login and
// signup start a new server-side session (session.h); the logic is in account.h.
#include "app/api/account.h"
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/api/session.h"
#include "app/core/errors.h"
#include "app/core/password.h"

namespace api {
namespace {

core::Reply login(core::Request& req)
{
    const auto& in = req.json_object();
    only_fields(in.keys(), {"email", "password", "remember"});
    const auto email = in.optional_string("email").value_or("");
    const auto password = in.optional_string("password").value_or("");
    const bool remember = in.optional_bool("remember").value_or(true);
    if (email.empty() || password.empty())
        throw core::BadRequest("Missing input");
    const auto user = check_login(req, email, password);
    log_in(req, user, remember, "LOGIN OK");
    return core::json_reply(200, user);
}

core::Reply signup(core::Request& req)
{
    const auto& in = req.json_object();
    only_fields(in.keys(), {"email", "password", "fname", "lname", "company", "remember"});
    NewAccount a;
    a.email = in.optional_string("email").value_or("");
    a.password = in.optional_string("password").value_or("");
    a.first_name = in.optional_string("fname").value_or("");
    a.last_name = in.optional_string("lname").value_or("");
    line_field(in, "company", kMaxName);  // accepted for RESTPie3's clients; not stored there either
    const bool remember = in.optional_bool("remember").value_or(true);
    if (a.email.empty() || a.password.empty() || a.first_name.empty() || a.last_name.empty())
        throw core::BadRequest("Invalid signup input");
    const auto user = signup_account(req, a);
    log_in(req, user, remember, "SIGNUP OK");
    return core::json_reply(201, user);
}

core::Reply logout(core::Request& req)
{
    if (!req.body().empty())  // RESTPie3's clients post {}; anything in it is a mistake
        only_fields(req.json_object().keys(), {});
    end_session(req);
    return core::raw_json_reply(200, "{}");
}

core::Reply me(core::Request& req)
{
    return core::raw_json_reply(200, "{\"me\":" + core::to_json(get_myself(req)) + "}");
}

}  // namespace

void add_account_routes(core::Router& r)
{
    using core::Role;
    core::dummy_hash();  // made now, at worker start, so no unknown-email login pays for it
    r.add("POST", "/api/login", Role::visitor, login,
          "Log in with {email, password, remember?}; replies with the user and sets the session "
          "cookie. 400 Invalid login credentials; 429 after repeated failures.");
    r.add("POST", "/api/signup", Role::visitor, signup,
          "Sign up with {email, password, fname, lname, company?, remember?}; replies 201 with "
          "the new user (role editor), logged in. 429 after too many signups from one IP.");
    r.add("POST", "/api/logout", Role::user, logout,
          "Log out: deletes the session and expires its cookie.");
    r.add("GET", "/api/me", Role::user, me, "The calling user, as {me: user}.");
}

}  // namespace api
