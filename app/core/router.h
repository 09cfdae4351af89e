// router.h: the one registry of routes. Dispatch, /api/list and /api/openapi.json all read it.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/core/reply.h"
#include "app/core/request.h"
#include "app/core/schema.h"

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

// An ownership rule: the route acts on one row that belongs to a user (its author, creator, ...),
// which only that user or a role of at least `bypass` may act on. Declared on the route with
// owned_by() (shown in /api/list and the OpenAPI document, with its 403); the handler loads the
// row and calls check_owner(req, owner id), which applies this very rule.
struct OwnerRule {
    std::string owner;         // what the owner is called: "author"
    Role bypass;               // this role and those above may act on anyone's row
    std::string text() const;  // "the author or an admin"
};

// A query parameter, declared on its route and read through the declaration, so /api/openapi.json
// shows the range and the limit the handler applies.
struct Param {
    std::string name;
    Type type = Type::string;
    std::string doc;
    std::int64_t def = 0, lo = 0, hi = 0;  // integer: absent -> def; outside [lo, hi] -> 400
    std::size_t max_length = 0;  // string: one line of at most this many characters (0: unchecked)
    std::string format{};        // documentation only: "uuid"

    static Param integer(std::string name, std::int64_t def, std::int64_t lo, std::int64_t hi,
                         std::string doc);
    static Param text(std::string name, std::size_t max_length, std::string doc,
                      std::string format = "");
    std::int64_t read_int(const Request& req) const;  // Request::query_int's 400s
    std::string read_text(const Request& req) const;  // "" when absent; 400 "<name> must ..."
};

// A reply a route declares: its status, what it means, and its body (none: no content).
struct Outcome {
    int status;
    std::string doc;
    std::vector<Schema> body;  // zero or one
    std::string media_type = "application/json";
};

struct Route {
    std::string method, pattern;  // pattern in OpenAPI syntax: "/api/movies/{id}"
    Role min_role;                // visitor: no login needed
    Handler handler;
    std::string doc;                    // first sentence becomes the OpenAPI summary
    std::string source;                 // declaring file, shown in /api/list and the request log
    std::vector<std::string> segments;  // pattern split on '/', "{id}" kept as is
    // Critical operations: the session must still have the IP and user agent of its login,
    // else 401. Set on the route add() returns: r.add(...).fresh_session = true;
    bool fresh_session = false;
    Body body = Body::json;                 // set like fresh_session: r.add(...).body = Body::form;
    std::optional<OwnerRule> owner_rule{};  // owned_by()

    // The OpenAPI side, declared by chaining on what add() returns (see api_movies.cpp):
    std::string operation_id{};   // named(); "" -> derived from method and pattern
    std::vector<Schema> input{};  // takes(): the JSON body the handler checks with the same Schema
    std::vector<Param> query{};   // params()
    std::vector<Outcome> replies{};  // gives(), html(), fails(): 2xx/3xx and the 4xx a route adds
    Route& named(std::string id);
    Route& takes(const Schema& body);
    Route& params(std::vector<Param> p);
    Route& gives(int status, Schema body, std::string doc);
    Route& gives(int status, std::string doc);  // no body (a redirect)
    Route& html(std::string doc);               // 200 text/html
    Route& fails(int status, std::string doc);  // an error reply beyond the usual 400/401/404
    // Only the row's owner, or a role of at least bypass: .owned_by("author") (see OwnerRule).
    Route& owned_by(std::string owner, Role bypass = Role::admin);
    std::string operation() const;  // operation_id, or e.g. "getApiMoviesById"
};

// The ownership check of a route declared owned_by(): returns when the caller is the owner
// (owner_id is the row's user id) or has the rule's bypass role, else throws Forbidden (403 "only
// the author or an admin may do this"). Throws std::logic_error (a 500) on a route without
// owned_by(); and a route with owned_by() whose handler replies without calling it gets a 500
// from the dispatcher, so the declared rule and the check cannot drift apart.
void check_owner(Request& req, const std::string& owner_id);

struct Match {
    const Route* route;
    std::map<std::string, std::string> params;
};

class Router {
public:
    // Throws std::logic_error on a duplicate method + pattern, at startup. The reference is
    // valid until the next add().
    Route& add(const std::string& method, const std::string& pattern, Role min_role,
               Handler handler, std::string doc, const char* source = __builtin_FILE());
    std::optional<Match> match(const std::string& method, const std::string& path) const;
    // Methods that some route accepts on this path (for 405 and its Allow header).
    std::vector<std::string> methods_for(const std::string& path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
};

}  // namespace core
