// router.h: the one registry of routes. Dispatch, /api/list and /api/openapi.json all read it.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/core/reply.h"
#include "app/core/request.h"

namespace core {

// Roles go low -> high; `user` = any logged-in role. A `disabled` account is refused at the door
// (400 "account disabled") before any route runs, so it needs no place here.
enum class Role { visitor, user, readonly, editor, admin, superuser };

const char* role_name(Role r);
// The database role names ("readonly", ...) mapped onto Role; unknown -> nullopt.
std::optional<Role> role_from_name(const std::string& name);

using Handler = std::function<Reply(Request&)>;

// What a route takes as a request body. A body of any other Content-Type is refused with 415
// before the route runs: browsers send text/plain, multipart and urlencoded posts to any site
// without a CORS preflight, so a JSON route that read them would take posts from any web page.
enum class Body { json, form };
const char* media_type(Body b);  // "application/json", "application/x-www-form-urlencoded"

struct Route {
    std::string method, pattern;  // pattern in OpenAPI syntax: "/api/movies/{id}"
    Role min_role;                // visitor: no login needed
    Handler handler;
    std::string doc;     // first sentence becomes the OpenAPI summary
    std::string source;  // declaring file, shown in /api/list and the request log
    std::vector<std::string> segments;  // pattern split on '/', "{id}" kept as is
    // Critical operations: the session must still have the IP and user agent of its login,
    // else 401. Set on the route add() returns: r.add(...).fresh_session = true;
    bool fresh_session = false;
    Body body = Body::json;  // set like fresh_session: r.add(...).body = Body::form;
};

struct Match {
    const Route* route;
    std::map<std::string, std::string> params;
};

class Router {
public:
    // Throws std::logic_error on a duplicate method + pattern, at startup. The reference is
    // valid until the next add().
    Route& add(const std::string& method, const std::string& pattern, Role min_role, Handler handler,
             std::string doc, const char* source = __builtin_FILE());
    std::optional<Match> match(const std::string& method, const std::string& path) const;
    // Methods that some route accepts on this path (for 405 and its Allow header).
    std::vector<std::string> methods_for(const std::string& path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

}  // namespace core
