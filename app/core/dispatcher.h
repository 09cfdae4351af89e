// dispatcher.h: turns a Request into a Reply: CORS, routing (404/405), role check, the handler,
// exceptions into error replies, and the one log line per request. It never throws.
#pragma once
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/reply.h"
#include "app/core/request.h"
#include "app/core/router.h"

namespace core {

// Fills req.session before the role check (sessions come from the account module). A session
// whose role is "disabled" is refused with AccountDisabled; the loader drops it (and puts the
// expiring cookie in req.reply_headers).
using SessionLoader = std::function<void(Request&)>;

struct DispatcherSettings {
    std::vector<std::string> cors_origins;  // "*" or the origins to echo (with cookies)
    static std::vector<Key> keys();
    static DispatcherSettings from(const Config& c);
};

class Dispatcher {
public:
    // Takes cors_origins, local_dev and log_secret_keys from the settings of the moment.
    explicit Dispatcher(const Router& router);

    // For GET and HEAD only: when the check says yes (say, a database connection found broken and
    // dropped), the handler runs once more, so a restart of a backing service costs no read.
    void set_read_retry(std::function<bool(const std::exception&)> check)
    {
        read_retry_ = std::move(check);
    }
    void set_session_loader(SessionLoader l) { session_loader_ = std::move(l); }
    // Told of every reply: the route (null when none matched), the status, the seconds it took.
    using Observer = std::function<void(const Route* matched, int status, double seconds)>;
    void set_observer(Observer o) { observer_ = std::move(o); }

    // access: when given and access_log_direct() (log.h), the request's log line is put there
    // for the caller to write once the reply has gone out; else it is logged at once.
    Reply handle(Request& req, AccessLine* access = nullptr) const;
    // An error reply without routing (e.g. 413 for a body over the cap), with CORS and its log
    // line.
    Reply refuse(Request& req, int status, const std::string& message,
                 AccessLine* access = nullptr) const;

private:
    Reply route(Request& req, const Route*& matched) const;
    Reply finish(Request& req, Reply reply, const Route* matched,
                 std::chrono::steady_clock::time_point start, AccessLine* access) const;
    Reply from_exception(const Request& req, const Route* route) const;
    void add_cors(const Request& req, Reply& reply) const;
    static void add_safety_headers(Reply& reply);

    const Router& router_;
    std::function<bool(const std::exception&)> read_retry_;
    SessionLoader session_loader_;
    Observer observer_;
    std::vector<std::string> origins_;  // "*" or an allow-list
    bool local_dev_;
    bool origin_varies_;
    std::vector<std::string> secret_keys_;
};

// The request's parameters (query, form or JSON body) for the log: secret values replaced by X,
// the whole cut at 1000 characters. A plain function so a unit test can call it.
std::string loggable_params(const Request& req, const std::vector<std::string>& secret_keys);
// The same for one JSON text (the arguments of a background task): secrets masked, cut at 1000.
std::string loggable_json(const std::string& json, const std::vector<std::string>& secret_keys);

// The Access-Control-Allow-Origin value for this Origin: the origin itself when it is on the
// list (or, in local development, http://localhost:<port> or http://127.0.0.1:<port>), with
// credentials allowed; else "*" when the list has "*" (no credentials); else "".
std::string allowed_origin(const std::string& origin, const std::vector<std::string>& allowed,
                           bool local_dev);

}  // namespace core
