// api_account.cpp: login, signup, logout and the caller's own account, as in RESTPie3. Login and
// signup start a new server-side session (session.h); the logic is in account.h.
#include "app/api/account.h"
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/api/schemas.h"
#include "app/api/session.h"
#include "app/core/password.h"

namespace api {
namespace {

// The bodies, as the handlers check them and /api/openapi.json shows them.
// clang-format off: one member a line, with its limits
const core::Schema kLogin = core::Schema::object("LoginInput")
                                .text("email", kMaxEmail)
                                .required()
                                .not_empty()
                                .formatted("email")
                                .text("password", kMaxPassword)
                                .required()
                                .not_empty()
                                .formatted("password")
                                .flag("remember", "Default true: a 30-day cookie, renewed by use")
                                .when_missing("Missing input");
// clang-format on

// clang-format off: one member a line, with its limits
const core::Schema kSignup =
    core::Schema::object("SignupInput")
        .text("email", kMaxEmail)
        .required()
        .not_empty()
        .formatted("email")
        .text("password", kMaxPassword,
              "At least 6 characters: a lowercase and an uppercase "
              "letter and a digit")
        .required()
        .not_empty()
        .formatted("password")
        .text("fname", kMaxName)
        .required()
        .not_empty()
        .label("first name")
        .text("lname", kMaxName)
        .required()
        .not_empty()
        .label("last name")
        .text("company", kMaxName, "Accepted for RESTPie3's clients; not stored")
        .flag("remember", "Default true: a 30-day cookie, renewed by use")
        .when_missing("Invalid signup input");
// clang-format on

// RESTPie3's clients post {}; anything in it is a mistake.
const core::Schema kLogout = core::Schema::object("LogoutInput");

const core::Schema kMe = core::Schema::object("Me").member("me", user_schema()).required();

core::Reply login(core::Request& req)
{
    const auto& in = read_body(req, kLogin);
    const auto user =
        check_login(req, *in.optional_string("email"), *in.optional_string("password"));
    log_in(req, user, in.optional_bool("remember").value_or(true), "LOGIN OK");
    return core::json_reply(200, user);
}

core::Reply signup(core::Request& req)
{
    const auto& in = read_body(req, kSignup);
    NewAccount a;
    a.email = *in.optional_string("email");
    a.password = *in.optional_string("password");
    a.first_name = *in.optional_string("fname");
    a.last_name = *in.optional_string("lname");
    const auto user = signup_account(req, a);
    log_in(req, user, in.optional_bool("remember").value_or(true), "SIGNUP OK");
    return core::json_reply(201, user);
}

core::Reply logout(core::Request& req)
{
    if (!req.body().empty())
        read_body(req, kLogout);
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
          "cookie. 400 Invalid login credentials; 429 after repeated failures.")
        .named("login")
        .takes(kLogin)
        .gives(200, user_schema(), "The user, logged in")
        .fails(429, "Too many failed logins for this email or address; see Retry-After");
    r.add("POST", "/api/signup", Role::visitor, signup,
          "Sign up with {email, password, fname, lname, company?, remember?}; replies 201 with "
          "the new user (role editor), logged in. 429 after too many signups from one IP.")
        .named("signup")
        .takes(kSignup)
        .gives(201, user_schema(), "The new user, logged in")
        .fails(429, "Too many signups from this address; see Retry-After");
    r.add("POST", "/api/logout", Role::user, logout,
          "Log out: deletes the session and expires its cookie.")
        .named("logout")
        .takes(kLogout)
        .gives(200, core::Schema::object(), "{}");
    r.add("GET", "/api/me", Role::user, me, "The calling user, as {me: user}.")
        .named("getMe")
        .gives(200, kMe, "The calling user");
}

}  // namespace api
