// input.cpp: field checks for handlers.
#include "app/api/input.h"

#include "app/core/errors.h"

namespace api {

const core::JsonObject& read_body(const core::Request& req, const core::Schema& body)
{
    const auto& in = req.json_object();
    body.check(in);
    return in;
}

std::int64_t path_id(const core::Request& req, const char* what, const char* param)
{
    const auto& text = req.path_params.at(param);
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos)
        throw core::NotFound(std::string(what) + " " + text);
    return std::stoll(text);
}

const core::Param& page_param()
{
    static const auto p = core::Param::integer("page", 1, 0, 1000000, "1-based; 0 means 1");
    return p;
}

std::optional<std::string> line_field(const core::JsonObject& in, const char* key, std::size_t max)
{
    auto v = in.optional_string(key);
    if (v)
        check_line(key, *v, max);
    return v;
}

}  // namespace api
