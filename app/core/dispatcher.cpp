// dispatcher.cpp: one request from routing to its log line.
#include "app/core/dispatcher.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <initializer_list>

#include "app/core/config.h"
#include "app/core/settings.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/text.h"

namespace core {
namespace {

const char* const kLoggerName = "dispatch";
const auto lg = logger(kLoggerName);
constexpr std::size_t kMaxLoggedParams = 1000;

// A route declared owned_by() whose handler replied without check_owner() would act on anyone's
// row while /api/list and the OpenAPI document promise the rule: a 500, never the reply.
Reply owner_checked(const Request& req, Reply reply)
{
    if (req.route->owner_rule && !req.owner_checked && reply.status < 400) {
        LOG4CPLUS_ERROR(lg, "internal error in " << req.method() << " " << req.path() << " ("
                                                 << req.route->source
                                                 << "): owned_by() route never called check_owner");
        return error_reply(500, "internal error");
    }
    return reply;
}

bool is_secret(const std::string& key, const std::vector<std::string>& secret_keys)
{
    std::string k;
    for (char c : key)
        k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::any_of(secret_keys.begin(), secret_keys.end(),
                       [&](const std::string& s) { return k.find(s) != std::string::npos; });
}

// Writes a JSON value with every member under a secret key replaced by "X", at any depth. The
// recursion is bounded: bodies are checked to nest at most kMaxJsonDepth levels before they get
// here, and anything deeper is written as "..." all the same.
void write_masked(const rapidjson::Value& v, JsonWriter& w, const std::vector<std::string>& secrets,
                  int depth = 1)
{
    if ((v.IsObject() || v.IsArray()) && depth > kMaxJsonDepth) {
        w.String("...");
    } else if (v.IsObject()) {
        w.StartObject();
        for (const auto& m : v.GetObject()) {
            const std::string key(m.name.GetString(), m.name.GetStringLength());
            w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
            if (is_secret(key, secrets))
                w.String("X");
            else
                write_masked(m.value, w, secrets, depth + 1);
        }
        w.EndObject();
    } else if (v.IsArray()) {
        w.StartArray();
        for (const auto& it : v.GetArray())
            write_masked(it, w, secrets, depth + 1);
        w.EndArray();
    } else {
        v.Accept(w);
    }
}

// The masked log form of a JSON object body, or a note of its size (what is not JSON may hold
// secrets anywhere, so none of it is logged). object() parses it, or hands out the parse the
// handler already made.
template <typename GetObject>
std::string masked_json(GetObject object, std::size_t size, const std::vector<std::string>& secrets)
{
    try {
        rapidjson::StringBuffer sb;
        JsonWriter w(sb);
        write_masked(object().value(), w, secrets);
        return sb.GetString();
    } catch (const HttpError&) {
        return "<" + std::to_string(size) + " bytes, not a JSON object>";
    }
}

// A real field name is a short plain name. Anything else (JSON text posted as a form, say) may
// hold a secret anywhere, in the name or in the value after a stray '=', so the log shows the
// sizes of both only.
bool plain_name(const std::string& k)
{
    return k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.' || c == '[' || c == ']';
           });
}

// A form body as encoders write it: every byte but letters, digits and -._*+%&= percent-encoded.
// Anything else (JSON sent with a form's type) splits into fields at random places, any of which
// may hold a secret under a name that does not say so.
bool encoded_form(const std::string& body)
{
    return std::all_of(body.begin(), body.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-._*+%&=").find(c) != std::string_view::npos;
    });
}

std::string size_note(const std::string& s)
{
    return "<" + std::to_string(s.size()) + " bytes>";
}

std::string masked_params(const Params& params, const std::vector<std::string>& secrets)
{
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    for (const auto& [k, v] : params) {
        const bool plain = plain_name(k);
        const auto key = plain ? k : size_note(k);
        w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
        const auto shown = is_secret(k, secrets) ? std::string("X")
                           : plain               ? to_valid_utf8(v)
                                                 : size_note(v);
        w.String(shown.c_str(), static_cast<rapidjson::SizeType>(shown.size()));
    }
    w.EndObject();
    return sb.GetString();
}

std::string cut_for_log(std::string s)
{
    if (s.size() > kMaxLoggedParams)
        s = s.substr(0, kMaxLoggedParams) + "...";
    return s;
}

bool is_local_origin(const std::string& origin)
{
    for (const char* prefix : {"http://localhost:", "http://127.0.0.1:"}) {
        const std::string p(prefix);
        if (origin.rfind(p, 0) == 0 && origin.size() > p.size() &&
            std::all_of(origin.begin() + p.size(), origin.end(), ::isdigit))
            return true;
    }
    return false;
}

}  // namespace

std::string loggable_params(const Request& req, const std::vector<std::string>& secret_keys)
{
    std::string out;
    if (!req.query_params().empty())
        out = masked_params(req.query_params(), secret_keys);
    std::string body;
    if (!req.form_params().empty()) {
        body = encoded_form(req.body())
                   ? masked_params(req.form_params(), secret_keys)
                   : "<" + std::to_string(req.body().size()) + " bytes, not an encoded form>";
    } else if (!req.body().empty()) {
        body = masked_json([&]() -> const JsonObject& { return req.json_object(); },
                           req.body().size(), secret_keys);
    }
    if (!body.empty())
        out += (out.empty() ? "" : " ") + body;
    return cut_for_log(out);
}

std::string loggable_json(const std::string& json, const std::vector<std::string>& secret_keys)
{
    return cut_for_log(
        masked_json([&] { return JsonObject::parse(json); }, json.size(), secret_keys));
}

std::string allowed_origin(const std::string& origin, const std::vector<std::string>& allowed,
                           bool local_dev)
{
    const bool listed = origin != "null" && !origin.empty() && origin != "*" &&
                        std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
    if (listed || (local_dev && is_local_origin(origin)))
        return origin;
    // "*" lets any page read public replies, never with the visitor's cookies: browsers refuse
    // "*" with credentials, and echoing any origin would give every site the session.
    return std::find(allowed.begin(), allowed.end(), "*") != allowed.end() ? "*" : "";
}

std::vector<Key> DispatcherSettings::keys()
{
    return {Key::list("cors_origins", {"*"})};
}

DispatcherSettings DispatcherSettings::from(const Config& c)
{
    return {c.list("cors_origins")};
}

Dispatcher::Dispatcher(const Router& router)
    : router_(router), origins_(settings<DispatcherSettings>().cors_origins),
      local_dev_(settings<ModeSettings>().local_dev),
      secret_keys_(settings<LogSettings>().secret_keys)
{
    // The answer depends on the request's Origin unless it is "*" for everyone.
    origin_varies_ = local_dev_ || origins_ != std::vector<std::string>{"*"};
}

void Dispatcher::add_cors(const Request& req, Reply& reply) const
{
    const auto origin = req.header("Origin").value_or("");
    const auto allow = allowed_origin(origin, origins_, local_dev_);
    if (!allow.empty())
        reply.header("Access-Control-Allow-Origin", allow);
    if (origin_varies_)
        reply.header("Vary", "Origin");  // caches must not hand one origin's answer to another
    reply.header("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,OPTIONS");
    reply.header("Access-Control-Allow-Headers", "Content-Type");
    if (!allow.empty() && allow != "*")  // a browser refuses credentials with "*"
        reply.header("Access-Control-Allow-Credentials", "true");
}

void Dispatcher::add_safety_headers(Reply& reply)
{
    // Set by the app itself, so they hold behind any nginx: no guessing a JSON reply is HTML,
    // and no page of ours inside another site's frame (clickjacking a login form).
    reply.header("X-Content-Type-Options", "nosniff");
    if (reply.content_type.rfind("text/html", 0) == 0) {
        reply.header("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                     "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
        reply.header("X-Frame-Options", "DENY");  // the same, for browsers before CSP 2
    }
}

Reply Dispatcher::from_exception(const Request& req, const Route* route) const
{
    const std::string where = req.method() + " " + req.path();
    try {
        throw;
    } catch (const AccountDisabled& e) {
        return raw_json_reply(e.status, json_member("err", e.what()));
    } catch (const HttpError& e) {
        return error_reply(e.status, e.what());
    } catch (const std::exception& e) {
        LOG4CPLUS_ERROR(lg, "internal error in " << where << " (" << (route ? route->source : "-")
                                                 << "): " << e.what());
    } catch (...) {
        LOG4CPLUS_ERROR(lg, "internal error in " << where << ": unknown exception");
    }
    return error_reply(500, "internal error");
}

Reply Dispatcher::route(Request& req, const Route*& matched) const
{
    if (req.method() == "OPTIONS")  // CORS preflight: open to all, no login
        return Reply{204, "text/plain", "", {}};
    const std::string method = req.method() == "HEAD" ? "GET" : req.method();
    auto m = router_.match(method, req.path());
    if (!m) {
        const auto methods = router_.methods_for(req.path());
        if (methods.empty())
            return error_reply(404, req.path());
        Reply r = error_reply(405, "method " + req.method() + " not allowed on " + req.path());
        std::string allow;
        for (const auto& x : methods)
            allow += (allow.empty() ? "" : ",") + x;
        r.header("Allow", allow + ",OPTIONS");
        return r;
    }
    matched = m->route;
    if (!req.body().empty() && !req.content_type_is(media_type(matched->body)))
        return error_reply(415, std::string("Content-Type must be ") + media_type(matched->body));
    req.path_params = std::move(m->params);
    if (session_loader_)
        session_loader_(req);
    if (req.session.logged_in())
        set_log_context(req.session.user_id, req.client_ip());
    if (req.session.logged_in() && req.session.role == "disabled") {
        LOG4CPLUS_WARN(lg, "account disabled: " << req.method() << " " << req.path() << ", user "
                                                << req.session.user_id);
        throw AccountDisabled();
    }
    if (matched->min_role != Role::visitor) {
        const auto role = role_from_name(req.session.role);
        const bool ok = req.session.logged_in() &&
                        (matched->min_role == Role::user || (role && *role >= matched->min_role));
        if (!ok) {
            LOG4CPLUS_WARN(
                lg, "no access: " << req.method() << " " << req.path() << " needs "
                                  << role_name(matched->min_role) << ", user "
                                  << (req.session.logged_in() ? req.session.user_id : "anon"));
            return error_reply(401, "not authorized");
        }
    }
    if (matched->fresh_session && !req.session.fresh) {
        LOG4CPLUS_WARN(
            lg, "stale session: " << req.method() << " " << req.path()
                                  << " needs the IP and agent of the login, user "
                                  << (req.session.logged_in() ? req.session.user_id : "anon"));
        return error_reply(401, "fresh login required");
    }
    req.route = matched;
    try {
        return owner_checked(req, matched->handler(req));
    } catch (const std::exception& e) {
        const bool read = req.method() == "GET" || req.method() == "HEAD";
        if (!read || !read_retry_ || !read_retry_(e))
            throw;
        LOG4CPLUS_WARN(lg,
                       "retrying " << req.method() << " " << req.path() << " once: " << e.what());
    }
    return owner_checked(req, matched->handler(req));
}

Reply Dispatcher::handle(Request& req, AccessLine* access) const
{
    const auto start = std::chrono::steady_clock::now();
    set_log_context("anon", req.client_ip());
    const Route* matched = nullptr;
    Reply reply;
    try {
        reply = route(req, matched);
    } catch (...) {
        reply = from_exception(req, matched);
    }
    return finish(req, std::move(reply), matched, start, access);
}

Reply Dispatcher::refuse(Request& req, int status, const std::string& message,
                         AccessLine* access) const
{
    const auto start = std::chrono::steady_clock::now();
    set_log_context("anon", req.client_ip());
    return finish(req, error_reply(status, message), nullptr, start, access);
}

Reply Dispatcher::finish(Request& req, Reply reply, const Route* matched,
                         std::chrono::steady_clock::time_point start, AccessLine* access) const
{
    reply.headers.reserve(reply.headers.size() + req.reply_headers.size() + 8);  // ours below
    reply.headers.insert(reply.headers.end(), req.reply_headers.begin(), req.reply_headers.end());
    add_cors(req, reply);
    add_safety_headers(reply);

    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const auto level = reply.status >= 400 ? log4cplus::ERROR_LOG_LEVEL : log4cplus::INFO_LOG_LEVEL;
    if (lg.isEnabledFor(level)) {
        AccessLine own;
        AccessLine& line = access && access_log_direct() ? *access : own;
        line.logger = kLoggerName;
        line.level = level;
        line.context = log_context();
        auto& m = line.message;
        char took[32];  // what "%.1f" writes, without printf's cost
        const auto end =
            std::to_chars(took, took + sizeof took, ms, std::chars_format::fixed, 1).ptr;
        if (matched)
            m.assign(matched->source).append(1, ' ');
        else
            m.assign("- ");
        m.append(req.method()).append(1, ' ').append(req.path());
        const auto params = loggable_params(req, secret_keys_);
        if (!params.empty())
            m.append(1, ' ').append(params);
        m.append(" -> ").append(std::to_string(reply.status)).append(1, ' ').append(took, end);
        m.append("ms");
        if (reply.status >= 400)
            m.append(1, ' ').append(reply.body, 0, 200);
        if (&line == &own) {  // else the caller writes it once the reply has gone
            if (access_log_direct())
                write_access_line(line);
            else
                lg.forcedLog(level, m, __FILE__, __LINE__);
        }
    }
    if (ms > 1000.0)
        LOG4CPLUS_WARN(lg, "SLOW! " << ms / 1000.0 << " s " << req.method() << " " << req.path());
    if (observer_)
        observer_(matched, reply.status, ms / 1000.0);
    clear_log_context();
    return reply;
}

}  // namespace core
