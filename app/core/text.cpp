// text.cpp: UTF-8 checks without a library: the rules of RFC 3629, table 3-7 of Unicode.
#include "app/core/text.h"

namespace core {
namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when the bytes there are not one.
std::size_t sequence_at(std::string_view s, std::size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80)
        return 1;
    std::size_t more;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
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
        return 0;
    }
    if (i + more >= s.size())  // cut short
        return 0;
    for (std::size_t k = 1; k <= more; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            return 0;
    }
    return more + 1;
}

// C0, DEL and C1 (U+0080-U+009F, two bytes in UTF-8: C2 80 to C2 9F) at s[i], a valid sequence.
bool control_at(std::string_view s, std::size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    return c < 0x20 || c == 0x7f ||
           (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f);
}

}  // namespace

bool valid_utf8(std::string_view s)
{
    for (std::size_t i = 0, n; i < s.size(); i += n)
        if ((n = sequence_at(s, i)) == 0)
            return false;
    return true;
}

std::string to_valid_utf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto n = sequence_at(s, i);
        if (n == 0) {
            out += "\xef\xbf\xbd";  // U+FFFD, one per bad byte
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

std::size_t utf8_length(std::string_view s)
{
    std::size_t count = 0;
    for (char ch : s)
        if ((static_cast<unsigned char>(ch) & 0xc0) != 0x80)
            ++count;
    return count;
}

namespace {

// A line break or tab inside a multi-line text: LF, CR LF, TAB.
bool text_break_at(std::string_view s, std::size_t i)
{
    return s[i] == '\n' || s[i] == '\t' || (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n');
}

std::optional<std::string> problem(std::string_view s, std::size_t max_chars, bool multiline)
{
    if (!valid_utf8(s))
        return std::string("must be valid UTF-8");
    for (std::size_t i = 0; i < s.size(); ++i)
        if (control_at(s, i) && !(multiline && text_break_at(s, i)))
            return std::string(multiline ? "must not contain control characters but line breaks"
                                         : "must not contain control characters");
    if (utf8_length(s) > max_chars)
        return "must be at most " + std::to_string(max_chars) + " characters";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> line_problem(std::string_view s, std::size_t max_chars)
{
    return problem(s, max_chars, false);
}

std::optional<std::string> text_problem(std::string_view s, std::size_t max_chars)
{
    return problem(s, max_chars, true);
}

std::string printable(std::string_view s, std::size_t max_bytes)
{
    std::string out = to_valid_utf8(s.substr(0, max_bytes));
    for (auto& ch : out) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f)
            ch = '?';
    }
    return out;
}

}  // namespace core
