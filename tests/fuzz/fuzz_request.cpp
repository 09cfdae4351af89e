// fuzz_request.cpp: FastCGI parameters and body into core::Request, every accessor, then a whole
// core::Dispatcher::handle over a small router whose handlers read input as the api's do. The
// reply must be a sane HTTP status with headers that cannot split and, for JSON, valid JSON.
#include <fuzzer/FuzzedDataProvider.h>

#include <map>
#include <memory>

#include "app/api/input.h"
#include "app/core/dispatcher.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/reply.h"
#include "app/core/request.h"
#include "tests/fuzz/fuzz.h"

namespace {

// What nginx passes (see nginx/), plus whatever a client can add as a header.
const char* const kParams[] = {"REQUEST_METHOD", "DOCUMENT_URI",    "REQUEST_URI",
                               "QUERY_STRING",   "CONTENT_TYPE",    "CONTENT_LENGTH",
                               "HTTP_COOKIE",    "HTTP_ORIGIN",     "HTTP_X_REAL_IP",
                               "REMOTE_ADDR",    "HTTP_USER_AGENT", "HTTPS"};
const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"};
const char* const kPaths[] = {"/api/items/", "/api/items/7", "/api/me", "/auth/form",
                              "/boom",       "/api/admin/x", "/nope"};

core::Reply item_get(core::Request& req)
{
    const auto page = req.query_int("page", 1, 1, 1000);
    const auto search = req.query("search").value_or("");
    api::check_line("search", search, api::kMaxTitle);
    return core::raw_json_reply(200, "{\"id\":" + core::json_escape(req.path_params.at("id")) +
                                         ",\"page\":" + std::to_string(page) +
                                         ",\"search\":" + core::json_escape(search) + "}");
}

core::Reply item_create(core::Request& req)
{
    const auto& in = req.json_object();
    api::only_fields(in.keys(), {"title", "director", "n", "flag"});
    const auto title = api::line_field(in, "title", api::kMaxTitle);
    if (!title)
        throw core::BadRequest("missing field: title");
    api::line_field(in, "director", api::kMaxName);
    in.optional_int("n");
    in.optional_bool("flag");
    return core::raw_json_reply(201, core::json_member("title", *title));
}

core::Reply form_post(core::Request& req)
{
    const auto email = req.form("email").value_or("");
    api::check_line("email", email, api::kMaxEmail);
    return core::html_reply(200, "<p>ok</p>");
}

core::Reply me(core::Request& req)
{
    return core::raw_json_reply(200, core::json_member("id", req.session.user_id));
}

// "session=<user>:<role>[:fresh]" stands for a session found in Redis.
void load_session(core::Request& req)
{
    const auto cookie = req.cookie("session");
    if (!cookie)
        return;
    const auto colon = cookie->find(':');
    if (colon == std::string::npos || colon == 0)
        return;
    req.session.user_id = cookie->substr(0, colon);
    const auto rest = cookie->substr(colon + 1);
    req.session.role = rest.substr(0, rest.find(':'));
    req.session.fresh = rest.find(":fresh") != std::string::npos;
}

struct Server {
    core::Router router;
    std::unique_ptr<core::Dispatcher> strict, local_dev;
    Server()
    {
        using core::Role;
        router.add("GET", "/api/items/{id}", Role::visitor, item_get, "");
        router.add("POST", "/api/items/", Role::editor, item_create, "");
        router.add("POST", "/auth/form", Role::visitor, form_post, "").body = core::Body::form;
        router.add("GET", "/api/me", Role::user, me, "").fresh_session = true;
        router.add("PUT", "/api/admin/{x}", Role::admin, me, "");
        router.add(
            "GET", "/boom", Role::visitor,
            [](core::Request&) -> core::Reply { throw std::runtime_error("boom"); }, "");
        // The dispatcher reads the config when made: one with CORS for an allow-list, one for
        // local development (local origins echoed).
        fuzz::setup();
        strict = std::make_unique<core::Dispatcher>(router);
        core::Config c = core::config();
        c.set("local_dev", true);
        core::set_config(c);
        local_dev = std::make_unique<core::Dispatcher>(router);
        for (auto* d : {strict.get(), local_dev.get()})
            d->set_session_loader(load_session);
    }
};

void call_accessors(const core::Request& req, FuzzedDataProvider& in)
{
    const auto name = in.ConsumeRandomLengthString(16);
    req.header(name);
    req.cookie(name);
    req.query(name);
    req.form(name);
    req.content_type_is("application/json");
    try {
        const auto v = req.query_int(name, 5, in.ConsumeIntegral<std::int64_t>(),
                                     in.ConsumeIntegral<std::int64_t>());
        (void)v;
    } catch (const core::HttpError&) {
    }
    try {
        req.json_object().keys();
    } catch (const core::HttpError&) {
    }
}

bool no_line_break(const std::string& s)
{
    return s.find_first_of("\r\n") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Server server;
    FuzzedDataProvider in(data, size);
    std::map<std::string, std::string> cgi;
    cgi["REQUEST_METHOD"] = in.PickValueInArray(kMethods);
    cgi["DOCUMENT_URI"] = in.PickValueInArray(kPaths);
    for (int i = in.ConsumeIntegralInRange(0, 8); i > 0; --i) {
        const std::string name = in.ConsumeBool() ? in.PickValueInArray(kParams)
                                                  : "HTTP_" + in.ConsumeRandomLengthString(16);
        cgi[name] = in.ConsumeRandomLengthString(128);
    }
    const bool local_dev = in.ConsumeBool();
    const auto probe = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 64));
    core::Request req(cgi, in.ConsumeRemainingBytesAsString());

    FuzzedDataProvider probe_in(probe.data(), probe.size());
    call_accessors(req, probe_in);

    const auto reply = (local_dev ? server.local_dev : server.strict)->handle(req);
    FUZZ_CHECK(reply.status >= 100 && reply.status <= 599, "a reply status outside 100..599");
    for (const auto& [k, v] : reply.headers)
        FUZZ_CHECK_SHOW(no_line_break(k) && no_line_break(v), "a reply header holds a line break",
                        k + ": " + v);
    FUZZ_CHECK(no_line_break(reply.content_type), "the content type holds a line break");
    if (reply.content_type == "application/json" && !reply.body.empty())
        FUZZ_CHECK_SHOW(core::is_valid_json(reply.body),
                        "a JSON reply is not valid JSON (or not UTF-8)", reply.body);
    core::to_cgi(reply);
    return 0;
}
