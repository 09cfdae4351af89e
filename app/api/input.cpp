// input.cpp: field checks for handlers.
#include "app/api/input.h"

#include <algorithm>

#include "app/core/errors.h"
#include "app/core/text.h"

namespace api {

void only_fields(const std::vector<std::string>& keys, const std::vector<std::string>& allowed)
{
    for (const auto& k : keys) {
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
            throw core::BadRequest(core::valid_utf8(k) ? "unknown field: " + core::printable(k, 100)
                                                       : "unknown field (not UTF-8)");
    }
}

void check_line(const std::string& field, const std::string& value, std::size_t max)
{
    if (auto why = core::line_problem(value, max))
        throw core::BadRequest(field + " " + *why);
}

std::optional<std::string> line_field(const core::JsonObject& in, const char* key, std::size_t max)
{
    auto v = in.optional_string(key);
    if (v)
        check_line(key, *v, max);
    return v;
}

}  // namespace api
