// router.cpp: matching a method and path against the registry, segment by segment.
#include "app/core/router.h"

#include <stdexcept>
#include <string_view>

namespace core {
namespace {

const char* const kRoleNames[] = {"visitor", "user", "readonly", "editor", "admin", "superuser"};

// "/api/movies/17" -> {"api", "movies", "17"}; a trailing slash gives a last empty segment, so
// "/api/movies/" and "/api/movies" stay different routes, as in the Flask original.
// Views into path, which must outlive them.
std::vector<std::string_view> split_path(std::string_view path)
{
    std::vector<std::string_view> out;
    out.reserve(8);
    std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
    while (true) {
        const auto slash = path.find('/', start);
        out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    return out;
}

bool is_param(const std::string& seg)
{
    return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool match_segments(const Route& r, const std::vector<std::string_view>& segs,
                    std::map<std::string, std::string>* params)
{
    if (r.segments.size() != segs.size())
        return false;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        if (is_param(r.segments[i])) {
            if (segs[i].empty())
                return false;
            if (params)
                (*params)[r.segments[i].substr(1, r.segments[i].size() - 2)] = std::string(segs[i]);
        } else if (r.segments[i] != segs[i]) {
            return false;
        }
    }
    return true;
}

std::string basename(const char* path)
{
    std::string s(path ? path : "");
    const auto slash = s.rfind('/');
    return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

const char* role_name(Role r)
{
    return kRoleNames[static_cast<int>(r)];
}

const char* media_type(Body b)
{
    return b == Body::form ? "application/x-www-form-urlencoded" : "application/json";
}

std::optional<Role> role_from_name(const std::string& name)
{
    for (int i = static_cast<int>(Role::readonly); i <= static_cast<int>(Role::superuser); ++i)
        if (name == kRoleNames[i])
            return static_cast<Role>(i);
    return std::nullopt;
}

Route& Router::add(const std::string& method, const std::string& pattern, Role min_role,
                 Handler handler, std::string doc, const char* source)
{
    for (const auto& r : routes_)
        if (r.method == method && r.pattern == pattern)
            throw std::logic_error("duplicate route " + method + " " + pattern);
    const auto segs = split_path(pattern);
    routes_.push_back(Route{method, pattern, min_role, std::move(handler), std::move(doc),
                            basename(source), {segs.begin(), segs.end()}});
    return routes_.back();
}

std::optional<Match> Router::match(const std::string& method, const std::string& path) const
{
    const auto segs = split_path(path);
    for (const auto& r : routes_) {
        Match m{&r, {}};
        if (r.method == method && match_segments(r, segs, &m.params))
            return m;
    }
    return std::nullopt;
}

std::vector<std::string> Router::methods_for(const std::string& path) const
{
    const auto segs = split_path(path);
    std::vector<std::string> out;
    for (const auto& r : routes_)
        if (match_segments(r, segs, nullptr))
            out.push_back(r.method);
    return out;
}

}  // namespace core
