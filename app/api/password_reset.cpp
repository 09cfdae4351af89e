// password_reset.cpp: reset tokens in Redis.
#include "app/api/password_reset.h"

#include <rapidjson/document.h>

#include "app/api/input.h"
#include "app/api/session.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/password.h"
#include "app/core/text.h"
#include "app/model/db.h"
#include "app/red/red.h"
#include "app/tasks/jobs.h"

namespace api {
namespace {

const auto lg = core::logger("api.reset");
constexpr std::size_t kTokenBytes = 32;

struct Token {
    std::string user_id, ip;
};

std::optional<Token> find(const std::string& token)
{
    if (token.size() != 2 * kTokenBytes ||
        token.find_first_not_of("0123456789abcdef") != std::string::npos)
        return std::nullopt;  // never made by us: no need to ask Redis
    const auto json = red::get_keyval(reset_key(token));
    if (!json)
        return std::nullopt;
    rapidjson::Document d;
    d.Parse(json->c_str(), json->size());
    if (!d.IsObject() || !d.HasMember("uid") || !d["uid"].IsString() || !d.HasMember("ip") ||
        !d["ip"].IsString())
        return std::nullopt;
    return Token{d["uid"].GetString(), d["ip"].GetString()};
}

const core::BadRequest kInvalidToken("Invalid or expired token");

}  // namespace

std::vector<core::Key> PasswordResetSettings::keys()
{
    using core::Key;
    // public_url: the site's own address cannot be guessed, and never from the request.
    return {Key::integer("password_reset_ttl_s", 3600, 1, 7 * 86400),
            Key::required_text("public_url")};
}

PasswordResetSettings PasswordResetSettings::from(const core::Config& c)
{
    return {static_cast<int>(c.integer("password_reset_ttl_s")), c.str("public_url")};
}

std::string reset_key(const std::string& token)
{
    return "pwreset:" + token;
}

void request_password_reset(const core::Request& req, const std::string& email)
{
    check_line("email", email, kMaxEmail);
    std::optional<model::User> u;
    {
        model::Tx tx{model::Tx::read};
        u = model::User::get_by_email(tx, email);
    }
    if (!u) {
        LOG4CPLUS_WARN(lg, "password reset asked for an unknown email " << core::printable(email));
        return;
    }
    const auto token = core::random_token(kTokenBytes);
    const auto& s = core::settings<PasswordResetSettings>();
    red::set_keyval(reset_key(token),
                    "{\"uid\":" + core::json_escape(u->id) +
                        ",\"ip\":" + core::json_escape(req.client_ip()) + "}",
                    s.ttl_s);
    // The configured address, never the request's Host header, which a caller could forge.
    send_reset_mail(*u, s.public_url + "/auth/reset?token=" + token);
}

std::optional<model::User> reset_token_user(const std::string& token)
{
    const auto t = find(token);
    if (!t)
        return std::nullopt;
    try {
        model::Tx tx{model::Tx::read};
        return model::User::get(tx, t->user_id);
    } catch (const core::NotFound&) {
        return std::nullopt;
    }
}

model::User reset_password(const core::Request& req, const std::string& token,
                           const std::string& password)
{
    const auto t = find(token);
    if (!t)
        throw kInvalidToken;
    if (t->ip != req.client_ip()) {
        LOG4CPLUS_WARN(lg, "reset token of user " << t->user_id << " used from " << req.client_ip()
                                                  << ", asked for from " << t->ip);
        throw core::BadRequest("This reset link works only from the address that asked for it");
    }
    if (auto why = core::password_problem(password))
        throw core::BadRequest(*why);
    check_line("password", password, kMaxPassword);
    const auto hash = core::hash_password(password);
    if (!red::delete_key(reset_key(token)))
        throw kInvalidToken;  // used a moment ago by another request
    model::User u;
    try {
        model::Tx tx;
        u = model::User::get(tx, t->user_id);
        u.password = hash;
        u.update(tx);
        tx.commit();
    } catch (const core::NotFound&) {
        throw kInvalidToken;
    }
    end_user_sessions(u.id);  // whoever knew the old password is logged out
    LOG4CPLUS_INFO(lg, "PASSWORD RESET OK for " << u.id);
    return u;
}

void send_reset_mail(const model::User& user, const std::string& link)
{
    LOG4CPLUS_INFO(lg, "password reset link for " << user.id << ": " << link);
    // The page must read the same whether or not the email exists, so a spool failure is logged,
    // never shown.
    try {
        tasks::spool_send_email(user.email, "Password reset", "Reset your password: " + link);
    } catch (const std::exception& e) {
        LOG4CPLUS_ERROR(lg, "reset mail for " << user.id << " not spooled: " << e.what());
    }
}

}  // namespace api
