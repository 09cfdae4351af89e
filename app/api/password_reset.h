// password_reset.h: the forgot/reset flow of the auth pages. A reset token is random (256 bits),
// lives in Redis for password_reset_ttl_s (1 hour) with the user id and the IP that asked for
// it, and works once, from that IP only.
#pragma once
#include <optional>
#include <string>

#include "app/core/request.h"
#include "app/core/settings.h"
#include "app/model/user.h"

namespace api {

struct PasswordResetSettings {
    int ttl_s;               // password_reset_ttl_s: a token's life
    std::string public_url;  // e.g. https://example.com: the start of the link in the mail
    static std::vector<core::Key> keys();
    static PasswordResetSettings from(const core::Config& c);
};

// When a user has this email: stores a token and hands the link to send_reset_mail. The caller
// answers the same whether or not there was one.
void request_password_reset(const core::Request& req, const std::string& email);

// The user of a live token (for the reset page); nullopt when it is unknown, expired or malformed.
std::optional<model::User> reset_token_user(const std::string& token);

// Checks the token (live, asked for from this IP) and the password rules, sets the password,
// deletes the token and ends the user's sessions. BadRequest with the reason.
model::User reset_password(const core::Request& req, const std::string& token,
                           const std::string& password);

// Where the reset mail goes out: spools the send_email task with the link (and logs the link).
void send_reset_mail(const model::User& user, const std::string& link);

std::string reset_key(const std::string& token);  // "pwreset:<token>", for tests

}  // namespace api
