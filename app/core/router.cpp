// router.cpp: matching a method and path against the registry, segment by segment.
#include "app/core/router.h"

#include "app/core/errors.h"
#include "app/core/log.h"

#include <cctype>
#include <stdexcept>
#include <string_view>

namespace core {
namespace {

const auto lg = logger("core.router");
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
    routes_.push_back(Route{method,
                            pattern,
                            min_role,
                            std::move(handler),
                            std::move(doc),
                            basename(source),
                            {segs.begin(), segs.end()}});
    return routes_.back();
}

Param Param::integer(std::string name, std::int64_t def, std::int64_t lo, std::int64_t hi,
                     std::string doc)
{
    Param p{std::move(name), Type::integer, std::move(doc)};
    p.def = def;
    p.lo = lo;
    p.hi = hi;
    return p;
}

Param Param::text(std::string name, std::size_t max_length, std::string doc, std::string format)
{
    Param p{std::move(name), Type::string, std::move(doc)};
    p.max_length = max_length;
    p.format = std::move(format);
    return p;
}

std::int64_t Param::read_int(const Request& req) const
{
    return req.query_int(name, def, lo, hi);
}

std::string Param::read_text(const Request& req) const
{
    auto v = req.query(name).value_or("");
    if (max_length > 0)
        check_line(name, v, max_length);
    return v;
}

Route& Route::named(std::string id)
{
    operation_id = std::move(id);
    return *this;
}

Route& Route::takes(const Schema& b)
{
    input = {b};
    return *this;
}

Route& Route::params(std::vector<Param> p)
{
    query = std::move(p);
    return *this;
}

Route& Route::gives(int status, Schema b, std::string doc)
{
    replies.push_back(Outcome{status, std::move(doc), {std::move(b)}});
    return *this;
}

Route& Route::gives(int status, std::string doc)
{
    replies.push_back(Outcome{status, std::move(doc), {}});
    return *this;
}

Route& Route::html(std::string doc)
{
    replies.push_back(Outcome{200, std::move(doc), {Schema::of(Type::string)}, "text/html"});
    return *this;
}

Route& Route::fails(int status, std::string doc)
{
    replies.push_back(Outcome{status, std::move(doc), {}});
    return *this;
}

Route& Route::owned_by(std::string owner, Role bypass)
{
    owner_rule = OwnerRule{std::move(owner), bypass};
    return *this;
}

std::string OwnerRule::text() const
{
    const std::string role = role_name(bypass);
    const bool vowel = role.find_first_of("aeio") == 0;  // "an admin", "a user"
    return "the " + owner + " or " + (vowel ? "an " : "a ") + role;
}

void check_owner(Request& req, const std::string& owner_id)
{
    if (!req.route || !req.route->owner_rule)
        throw std::logic_error("check_owner on a route without owned_by()");
    req.owner_checked = true;
    const auto& rule = *req.route->owner_rule;
    if (req.session.logged_in() && req.session.user_id == owner_id)
        return;
    const auto role = role_from_name(req.session.role);
    if (role && *role >= rule.bypass)
        return;
    LOG4CPLUS_WARN(lg, "forbidden: " << req.method() << " " << req.path() << " is for "
                                     << rule.text() << ", user "
                                     << (req.session.logged_in() ? req.session.user_id : "anon"));
    throw Forbidden("only " + rule.text() + " may do this");
}

// "GET /api/movies/{id}" -> "getApiMoviesById": what a generated client names the call.
std::string Route::operation() const
{
    if (!operation_id.empty())
        return operation_id;
    std::string id;
    for (char c : method)
        id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& seg : segments) {
        if (is_param(seg))
            id += "By";
        const auto word = is_param(seg) ? seg.substr(1, seg.size() - 2) : seg;
        bool upper = true;
        for (char c : word) {
            if (!std::isalnum(static_cast<unsigned char>(c))) {
                upper = true;
                continue;
            }
            id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
            upper = false;
        }
    }
    return id;
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
