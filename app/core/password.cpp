// password.cpp: libscrypt behind two calls. N=16384, r=8 as the library default, but p=1: the
// default p=16 costs 16 sequential passes (hundreds of ms on 2 cores) for no gain against GPUs.
// RESTPie3's pbkdf2_sha256 hashes are checked with OpenSSL's PBKDF2 (libcrypto, which libpq
// loads into every process anyway).
#include "app/core/password.h"

#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <libscrypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace core {
namespace {
constexpr std::uint32_t kN = 16384;
constexpr std::uint8_t kR = 8;
constexpr std::uint8_t kP = 1;

constexpr std::string_view kPbkdf2 = "$pbkdf2-sha256$";
// Far above passlib's 29000; a hash asking for more would hold a worker past its harakiri.
constexpr long kMaxPbkdf2Rounds = 10'000'000;

// passlib's "adapted base64": standard base64 with '.' for '+' and no padding. nullopt when s is
// not that.
std::optional<std::string> ab64_decode(std::string_view s)
{
    if (s.empty() ||
        s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789./") != std::string_view::npos ||
        s.size() % 4 == 1)
        return std::nullopt;
    std::string b64(s);
    std::replace(b64.begin(), b64.end(), '.', '+');
    const std::size_t pad = (4 - b64.size() % 4) % 4;
    b64.append(pad, '=');
    std::string out(b64.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    if (n < 0 || static_cast<std::size_t>(n) < pad)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding's bytes
    return out;
}

// `fields` is what follows "$pbkdf2-sha256$": "rounds$salt$checksum", as passlib writes it.
bool check_pbkdf2_sha256(std::string_view fields, const std::string& password)
{
    const auto d1 = fields.find('$');
    const auto d2 = d1 == std::string_view::npos ? d1 : fields.find('$', d1 + 1);
    if (d2 == std::string_view::npos || d1 == 0 || d1 > 9)
        return false;
    const std::string rounds_text(fields.substr(0, d1));
    if (rounds_text.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const long rounds = std::strtol(rounds_text.c_str(), nullptr, 10);
    const auto salt = ab64_decode(fields.substr(d1 + 1, d2 - d1 - 1));
    const auto want = ab64_decode(fields.substr(d2 + 1));
    if (rounds < 1 || rounds > kMaxPbkdf2Rounds || !salt || !want || want->size() != 32)
        return false;
    unsigned char got[32];
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt->data()),
                          static_cast<int>(salt->size()), static_cast<int>(rounds), EVP_sha256(),
                          sizeof got, got) != 1)
        return false;
    return CRYPTO_memcmp(got, want->data(), sizeof got) == 0;
}

}  // namespace

std::string hash_password(const std::string& password)
{
    char out[SCRYPT_MCF_LEN + 1] = {};
    if (libscrypt_hash(out, password.c_str(), kN, kR, kP) != 1)
        throw std::runtime_error("password hashing failed");
    return out;
}

bool check_password(const std::string& hash, const std::string& password)
{
    if (hash.rfind(kPbkdf2, 0) == 0)
        return check_pbkdf2_sha256(std::string_view(hash).substr(kPbkdf2.size()), password);
    // libscrypt_check tokenises its argument in place: hand it a copy.
    std::vector<char> copy(hash.begin(), hash.end());
    copy.push_back('\0');
    return libscrypt_check(copy.data(), password.c_str()) > 0;
}

bool needs_rehash(const std::string& hash)
{
    return hash.rfind("$s1$", 0) != 0;
}

const std::string& dummy_hash()
{
    static const std::string h = hash_password(random_token(16));
    return h;
}

std::optional<std::string> password_problem(const std::string& password)
{
    if (password.size() < 6)
        return "password must be at least 6 characters";
    if (password.size() > 200)
        return "password must be at most 200 characters";
    bool lower = false, upper = false, digit = false;
    for (unsigned char c : password) {
        lower |= std::islower(c) != 0;
        upper |= std::isupper(c) != 0;
        digit |= std::isdigit(c) != 0;
    }
    if (!lower || !upper || !digit)
        return "password must contain a lowercase letter, an uppercase letter and a digit";
    return std::nullopt;
}

std::string random_token(std::size_t bytes)
{
    std::vector<unsigned char> buf(bytes);
    std::size_t got = 0;
    while (got < bytes) {
        const ssize_t n = getrandom(buf.data() + got, bytes - got, 0);
        if (n < 0)
            throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
        got += static_cast<std::size_t>(n);
    }
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char b : buf) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

}  // namespace core
