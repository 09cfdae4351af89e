// password.cpp: libscrypt behind two calls. N=16384, r=8 as the library default, but p=1: the
// default p=16 costs 16 sequential passes (hundreds of ms on 2 cores) for no gain against GPUs.
#include "app/core/password.h"

#include <sys/random.h>

#include <cctype>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <libscrypt.h>

namespace core {
namespace {
constexpr std::uint32_t kN = 16384;
constexpr std::uint8_t kR = 8;
constexpr std::uint8_t kP = 1;
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
    // libscrypt_check tokenises its argument in place: hand it a copy.
    std::vector<char> copy(hash.begin(), hash.end());
    copy.push_back('\0');
    return libscrypt_check(copy.data(), password.c_str()) > 0;
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
