// text.h: checks on user-supplied text (UTF-8, control characters, length) and a log-safe copy.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates or values past
// U+10FFFF.
bool valid_utf8(std::string_view s);
// Code points in valid UTF-8 (bytes that do not start a character are not counted).
std::size_t utf8_length(std::string_view s);
// s with every byte that is not part of a well-formed sequence replaced by U+FFFD, for text
// that is echoed back (error messages quote the path or a field name).
std::string to_valid_utf8(std::string_view s);

// Why s is no good as a one-line field (a name, an email, a title), or nullopt: not UTF-8,
// a control character (C0, DEL or C1: NUL would cut a C string and PostgreSQL refuses it;
// U+0085 is a line break to some readers), over max_chars.
std::optional<std::string> line_problem(std::string_view s, std::size_t max_chars);
// The same for a multi-line text (a review, a comment): line breaks (LF, or CR LF) and tabs are
// allowed, every other control character (a lone CR too) is not.
std::optional<std::string> text_problem(std::string_view s, std::size_t max_chars);

// s for a log line or a message: invalid UTF-8 as U+FFFD, C0 control characters as '?' (no
// forged lines), cut at max_bytes (before the replacement, which may lengthen it).
std::string printable(std::string_view s, std::size_t max_bytes = 200);

}  // namespace core
