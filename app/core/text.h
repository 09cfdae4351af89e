// text.h: checks on user-supplied text (UTF-8, control characters, length) and a log-safe copy.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates or values past U+10FFFF.
bool valid_utf8(std::string_view s);
// Code points in valid UTF-8 (bytes that do not start a character are not counted).
std::size_t utf8_length(std::string_view s);

// Why s is no good as a one-line field (a name, an email, a title), or nullopt: not UTF-8,
// a control character (NUL would cut a C string and PostgreSQL refuses it), over max_chars.
std::optional<std::string> line_problem(std::string_view s, std::size_t max_chars);

// s for a log line: control characters as '?' (no forged lines), cut at max_bytes.
std::string printable(std::string_view s, std::size_t max_bytes = 200);

}  // namespace core
