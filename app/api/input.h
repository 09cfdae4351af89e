// input.h: checks shared by every handler that takes user input: known fields only, one-line
// text of bounded length. Each failure is a core::BadRequest (400) naming the field.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/core/json.h"

namespace api {

// Limits in characters. RFC 5321 caps an address at 254 octets; the rest are sane bounds.
constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxName = 100;
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxPassword = 200;

// 400 "unknown field: x" for the first key not in allowed.
void only_fields(const std::vector<std::string>& keys, const std::vector<std::string>& allowed);

// 400 "<field> must be ..." when value is not valid UTF-8, has control characters or is longer
// than max characters.
void check_line(const std::string& field, const std::string& value, std::size_t max);

// A string member of a JSON body checked with check_line; nullopt when absent or null.
std::optional<std::string> line_field(const core::JsonObject& in, const char* key, std::size_t max);

}  // namespace api
