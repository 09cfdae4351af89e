// password.h: scrypt password hashes (libscrypt's self-describing "$s1$" strings with salt and
// parameters), the password rules of docs/api.md, and random tokens from the OS. RESTPie3's
// hashes (passlib's pbkdf2_sha256) are checked too, so users imported from it keep their
// passwords; their first good login replaces the hash with an scrypt one.
#pragma once
#include <optional>
#include <string>

namespace core {

// A new hash with a fresh random salt. Throws std::runtime_error if libscrypt fails.
std::string hash_password(const std::string& password);

// True when password matches hash; a malformed hash is no match. Spends one scrypt run, so a login
// for an unknown email (checked against dummy_hash()) takes as long as a wrong password; for an
// imported "$pbkdf2-sha256$rounds$salt$checksum" hash, its PBKDF2-HMAC-SHA256 run instead.
bool check_password(const std::string& hash, const std::string& password);
// True for a hash that is not scrypt's (an imported one), to be replaced after a good login.
bool needs_rehash(const std::string& hash);
const std::string& dummy_hash();

// Why a new password is refused ("at least 6 characters", ...), or nullopt when it is good.
std::optional<std::string> password_problem(const std::string& password);

// bytes of getrandom(2) output as lower-case hex (2 * bytes characters).
std::string random_token(std::size_t bytes = 32);

}  // namespace core
