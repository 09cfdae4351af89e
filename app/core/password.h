// password.h: scrypt password hashes (libscrypt's self-describing "$s1$" strings with salt and
// parameters), the password rules of docs/api.md, and random tokens from the OS.
#pragma once
#include <optional>
#include <string>

namespace core {

// A new hash with a fresh random salt. Throws std::runtime_error if libscrypt fails.
std::string hash_password(const std::string& password);

// True when password matches hash; a malformed hash is no match. Always spends one scrypt run,
// so a login for an unknown email (checked against dummy_hash()) takes as long as a wrong password.
bool check_password(const std::string& hash, const std::string& password);
const std::string& dummy_hash();

// Why a new password is refused ("at least 6 characters", ...), or nullopt when it is good.
std::optional<std::string> password_problem(const std::string& password);

// bytes of getrandom(2) output as lower-case hex (2 * bytes characters).
std::string random_token(std::size_t bytes = 32);

}  // namespace core
