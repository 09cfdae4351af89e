// request.h: one HTTP request as nginx passes it over FastCGI (CGI params plus body). The FastCGI
// loop lends it libfcgi's params; tests make one from a plain map, which it then owns.
#pragma once
#include <cstdint>
#include <any>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/core/json.h"

namespace core {

struct Route;

using Params = std::vector<std::pair<std::string, std::string>>;  // ordered, may repeat
// CGI params as (name, value) views; on a repeated name the first counts. A plain vector: a
// request has about 30, looked up a few times each, and a map cost 60 allocations per request.
using CgiParams = std::vector<std::pair<std::string_view, std::string_view>>;

// application/x-www-form-urlencoded (query strings and form bodies); '+' is a space.
Params parse_urlencoded(std::string_view text);
std::string url_decode(std::string_view text);
// Whether a Content-Type header value names media_type (lower case, e.g. "application/json"):
// the type compared without case, and no parameter but an optional charset=utf-8.
bool content_type_is(std::string_view header, std::string_view media_type);
// "a=1; b=2" as sent in the Cookie header.
std::map<std::string, std::string> parse_cookies(std::string_view header);

// Who is calling: filled in by the dispatcher's session loader (empty for a visitor).
struct Session {
    std::string user_id;
    std::string role;
    std::string id{};    // the session id from the cookie; "" for a visitor
    bool fresh = false;  // same client IP and user agent as at login
    bool logged_in() const { return !user_id.empty(); }
};

class Request {
public:
    Request(std::map<std::string, std::string> cgi, std::string body);
    // Views only: what cgi points into (libfcgi's envp, freed by FCGX_Finish_r) must outlive
    // the Request.
    static Request borrowing(CgiParams cgi, std::string body);
    Request(Request&&) = default;
    Request(const Request&) = delete;  // the views may point into the other one's map

    const std::string& method() const { return method_; }
    const std::string& path() const { return path_; }
    std::string_view query_string() const { return param("QUERY_STRING"); }
    const std::string& client_ip() const { return client_ip_; }
    const std::string& body() const { return body_; }
    std::string_view param(std::string_view cgi_name) const;  // "" when absent

    // "Content-Type" or "X-Real-IP" style names.
    std::optional<std::string> header(const std::string& name) const;
    std::optional<std::string> cookie(const std::string& name) const;
    std::optional<std::string> query(const std::string& key) const;  // first value
    const Params& query_params() const { return query_; }
    // An integer query parameter: absent -> def; not a whole number in [lo, hi] -> 400.
    std::int64_t query_int(const std::string& key, std::int64_t def, std::int64_t lo,
                           std::int64_t hi) const;
    std::optional<std::string> form(const std::string& key) const;  // urlencoded body
    const Params& form_params() const;  // empty unless the body is a form

    // The body as a JSON object, parsed once (400 when it is not one).
    const JsonObject& json_object() const;
    bool content_type_is(std::string_view media_type) const;

    std::map<std::string, std::string> path_params;  // {id} and friends, set by the router
    Session session;                                 // set by the dispatcher
    // Headers for whatever reply goes out, an error reply too (a renewed session cookie,
    // Retry-After); the dispatcher appends them.
    std::vector<std::pair<std::string, std::string>> reply_headers;
    // Adds a Set-Cookie header for the cookie `name`, replacing one already on its way out (a
    // renewal replaced by a login, a page rendered twice): a reply sets a cookie once.
    void put_cookie(const std::string& name, std::string set_cookie_value);
    std::any myself;  // the calling user, loaded at most once per request by the api layer
    const Route* route = nullptr;  // the matched route, set by the dispatcher before the handler
    bool owner_checked = false;    // set by core::check_owner (router.h)

private:
    struct Borrowed {};  // keeps braced maps in tests from meaning this constructor
    Request(Borrowed, CgiParams cgi, std::string body);
    void parse_cgi();

    std::map<std::string, std::string> owned_;  // what cgi_ points into, when made from a map
    CgiParams cgi_;
    std::string body_, method_, path_, client_ip_;
    Params query_;
    mutable std::optional<Params> form_;
    mutable std::shared_ptr<const JsonObject> json_;
    mutable std::optional<std::map<std::string, std::string>> cookies_;
};

}  // namespace core
