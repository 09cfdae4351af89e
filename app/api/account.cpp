// account.cpp: logins, new accounts, the calling user and role changes.
#include "app/api/account.h"

#include "app/api/input.h"
#include "app/api/session.h"
#include "app/api/throttle.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/password.h"
#include "app/core/router.h"
#include "app/core/text.h"
#include "app/model/db.h"

namespace api {
namespace {

const auto lg = core::logger("api.account");

void check_email(const std::string& email)
{
    check_line("email", email, kMaxEmail);
    const auto at = email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 == email.size() ||
        email.find(' ') != std::string::npos)
        throw core::BadRequest("email is not a valid address");
}

bool is_role(const std::string& role)
{
    return role == "disabled" || core::role_from_name(role).has_value();
}

std::string taken(const std::string& email)
{
    return "Signup email taken: " + email;
}

// u logged in with a hash that is not ours (imported from RESTPie3): from now on the password is
// kept as scrypt. Failing to store it is no reason to refuse a good login: the next one tries
// again.
void upgrade_hash(model::User& u, const std::string& password)
{
    try {
        const auto hash = core::hash_password(password);
        model::Tx tx;
        if (!model::User::replace_password_hash(tx, u.id, u.password, hash))
            return;  // changed meanwhile (a reset): that one stands
        tx.commit();
        u.password = hash;
        LOG4CPLUS_INFO(lg, "password hash of user " << u.id << " upgraded to scrypt");
    } catch (const std::exception& e) {
        LOG4CPLUS_WARN(lg,
                       "could not upgrade the password hash of user " << u.id << ": " << e.what());
    }
}

}  // namespace

model::User check_login(core::Request& req, const std::string& email, const std::string& password)
{
    check_line("email", email, kMaxEmail);
    check_line("password", password, kMaxPassword);
    check_login_throttle(req, email);
    std::optional<model::User> u;
    {
        model::Tx tx{model::Tx::read};
        u = model::User::get_by_email(tx, email);
    }
    // The same scrypt work whether or not the email exists.
    const bool ok = core::check_password(u ? u->password : core::dummy_hash(), password);
    if (!u || !ok) {
        count_login_failure(req, email);
        LOG4CPLUS_WARN(lg, "login failed for " << core::printable(email) << " ("
                                               << (u ? "wrong password" : "no such user") << ")");
        throw core::BadRequest("Invalid login credentials");
    }
    if (core::needs_rehash(u->password))
        upgrade_hash(*u, password);
    return *u;
}

model::User create_account(const NewAccount& a)
{
    check_email(a.email);
    check_line("first name", a.first_name, kMaxName);
    check_line("last name", a.last_name, kMaxName);
    if (!is_role(a.role))
        throw core::BadRequest("unknown role: " + core::printable(a.role, 40));
    {
        model::Tx tx{model::Tx::read};
        if (model::User::get_by_email(tx, a.email))
            throw core::BadRequest(taken(a.email));
    }
    if (auto why = core::password_problem(a.password))
        throw core::BadRequest(*why);
    if (auto why = core::line_problem(a.password, kMaxPassword))
        throw core::BadRequest("password " + *why);
    model::User u;
    u.email = a.email;
    u.password = core::hash_password(a.password);  // before the transaction: it takes a while
    u.first_name = a.first_name;
    u.last_name = a.last_name;
    u.role = a.role;
    try {
        model::Tx tx;
        u.insert(tx);
        tx.commit();
    } catch (const model::EmailTaken&) {  // taken since the check above
        throw core::BadRequest(taken(a.email));
    }
    LOG4CPLUS_INFO(
        lg, "account created: " << u.id << " " << core::printable(u.email) << " as " << u.role);
    return u;
}

model::User signup_account(core::Request& req, const NewAccount& a)
{
    count_signup_attempt(req);  // before the scrypt run it is there to save
    return create_account(a);
}

void log_in(core::Request& req, const model::User& user, bool remember, const char* event)
{
    start_session(req, user, remember);
    LOG4CPLUS_INFO(lg, event << " agent=" << client_agent(req));
}

const model::User& get_myself(core::Request& req)
{
    if (const auto* u = std::any_cast<model::User>(&req.myself))
        return *u;
    if (!req.session.logged_in())
        throw core::HttpError(401, "not logged in");
    try {
        model::Tx tx{model::Tx::read};
        req.myself = model::User::get(tx, req.session.user_id);
    } catch (const core::NotFound&) {
        LOG4CPLUS_WARN(lg, "session of a deleted user " << req.session.user_id << ": ended");
        end_session(req);
        throw core::HttpError(401, "not logged in");
    }
    return std::any_cast<const model::User&>(req.myself);
}

int set_role(const std::string& email, const std::string& role)
{
    if (!is_role(role))
        throw core::BadRequest("unknown role: " + core::printable(role, 40));
    std::string id;
    {
        model::Tx tx;
        const auto u = model::User::get_by_email(tx, email);
        if (!u)
            throw core::NotFound("user " + core::printable(email));
        id = u->id;
        model::User::set_role(tx, id, role);
        tx.commit();
    }
    const int n =
        set_session_role(id, role);  // after the commit: a login in between reads the new role
    LOG4CPLUS_WARN(lg,
                   "role of " << id << " set to " << role << ", " << n << " live sessions changed");
    return n;
}

}  // namespace api
