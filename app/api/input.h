// input.h: checks shared by every handler that takes user input: known fields only, one-line
// text of bounded length, row ids in the path. Each failure is a core::BadRequest (400) naming
// the field, but a path id that names no row, which is a core::NotFound (404).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/core/json.h"
#include "app/core/request.h"
#include "app/core/router.h"
#include "app/core/schema.h"

namespace api {

// Limits in characters. RFC 5321 caps an address at 254 octets; the rest are sane bounds.
constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxName = 100;
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxPassword = 200;

using core::only_fields;  // 400 "unknown field: x" for the first key not in allowed

// The body as a JSON object, checked against the declaration its route takes() (schema.h): the
// 400s of Schema::check.
const core::JsonObject& read_body(const core::Request& req, const core::Schema& body);

// A row id in the path ({id}, or the parameter `param`): a whole number of at most 18 digits.
// Anything else names no row: 404 "<what> <text>" ("movie abc"), as an unknown id does.
// Ids go out as strings (schemas.h).
std::int64_t path_id(const core::Request& req, const char* what, const char* param = "id");

// The query parameter page of every list: 1-based, 0 means 1.
const core::Param& page_param();

using core::check_line;  // 400 "<field> must be ..." for a bad or over-long one-line text

// A string member of a JSON body checked with check_line; nullopt when absent or null.
std::optional<std::string> line_field(const core::JsonObject& in, const char* key, std::size_t max);

}  // namespace api
