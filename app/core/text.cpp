// text.cpp: UTF-8 checks without a library: the rules of RFC 3629, table 3-7 of Unicode.
#include "app/core/text.h"

namespace core {

bool valid_utf8(std::string_view s)
{
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int more;
        unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf)
            more = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0;  // overlong
            if (c == 0xed)
                hi = 0x9f;  // surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90;  // overlong
            if (c == 0xf4)
                hi = 0x8f;  // past U+10FFFF
        } else {
            return false;
        }
        if (i + more >= n)  // cut short
            return false;
        for (int k = 1; k <= more; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
                return false;
        }
        i += more + 1;
    }
    return true;
}

std::size_t utf8_length(std::string_view s)
{
    std::size_t count = 0;
    for (char ch : s)
        if ((static_cast<unsigned char>(ch) & 0xc0) != 0x80)
            ++count;
    return count;
}

std::optional<std::string> line_problem(std::string_view s, std::size_t max_chars)
{
    if (!valid_utf8(s))
        return std::string("must be valid UTF-8");
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f)
            return std::string("must not contain control characters");
    }
    if (utf8_length(s) > max_chars)
        return "must be at most " + std::to_string(max_chars) + " characters";
    return std::nullopt;
}

std::string printable(std::string_view s, std::size_t max_bytes)
{
    std::string out(s.substr(0, max_bytes));
    for (auto& ch : out) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f)
            ch = '?';
    }
    return out;
}

}  // namespace core
