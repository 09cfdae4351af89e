// openapi.cpp: the OpenAPI 3.0 document of the route registry: each route's declared body, query,
// replies and role (router.h, schema.h), the session cookie as its security scheme, and the
// error replies every route can give, all in the one {"err": "<status>: <message>"} shape.
#include "app/api/openapi.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "app/api/session.h"
#include "app/core/settings.h"
#include "app/core/reply.h"

namespace api {
namespace {

using core::JsonWriter;
using core::Route;
using core::Schema;

const char* const kScheme = "session";

void string(JsonWriter& w, const std::string& s)
{
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

void key(JsonWriter& w, const std::string& k)
{
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
}

std::string first_sentence(const std::string& doc)
{
    const auto dot = doc.find(". ");
    return dot == std::string::npos ? doc : doc.substr(0, dot + 1);
}

std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

const Schema& error_schema()
{
    // clang-format off: one member a line, with its limits
    static const Schema s =
        Schema::object("Error", "Every error reply: the status, a colon and the reason")
            .text("err", 0,
                  "e.g. \"400: Missing input\"; a disabled account's: \"account disabled\"")
            .required();
    // clang-format on
    return s;
}

// {description, content: {media: {schema}}}; no content without a body.
void write_response(JsonWriter& w, const std::string& doc, const Schema* body,
                    const std::string& media, std::vector<const Schema*>& refs)
{
    w.StartObject();
    w.Key("description");
    string(w, doc);
    if (body) {
        w.Key("content");
        w.StartObject();
        key(w, media);
        w.StartObject();
        w.Key("schema");
        body->write(w, refs);
        w.EndObject();
        w.EndObject();
    }
    w.EndObject();
}

void write_parameter(JsonWriter& w, const std::string& name, const char* in, Schema schema,
                     const std::string& doc, bool required, std::vector<const Schema*>& refs)
{
    w.StartObject();
    w.Key("name");
    string(w, name);
    w.Key("in");
    w.String(in);
    if (!doc.empty()) {
        w.Key("description");
        string(w, doc);
    }
    w.Key("required");
    w.Bool(required);
    w.Key("schema");
    schema.write(w, refs);
    w.EndObject();
}

void write_parameters(JsonWriter& w, const Route& r, std::vector<const Schema*>& refs)
{
    w.Key("parameters");
    w.StartArray();
    for (const auto& seg : r.segments)
        if (seg.size() > 2 && seg.front() == '{')
            write_parameter(w, seg.substr(1, seg.size() - 2), "path",
                            Schema::of(core::Type::string), "", true, refs);
    for (const auto& p : r.query) {
        auto s = Schema::of(p.type);
        s.max_length = p.max_length;
        s.format = p.format;
        std::string doc = p.doc;
        if (p.type == core::Type::integer)  // the range Request::query_int enforces
            doc += " (" + std::to_string(p.lo) + " to " + std::to_string(p.hi) + ", default " +
                   std::to_string(p.def) + ")";
        write_parameter(w, p.name, "query", s, doc, false, refs);
    }
    w.EndArray();
}

void write_request_body(JsonWriter& w, const Route& r, std::vector<const Schema*>& refs)
{
    if (r.input.empty() && r.body != core::Body::form)
        return;
    w.Key("requestBody");
    w.StartObject();
    w.Key("required");  // a body without members ({} for logout) may be left out
    w.Bool(r.input.empty() || !r.input[0].fields.empty());
    w.Key("content");
    w.StartObject();
    w.Key(core::media_type(r.body));
    w.StartObject();
    w.Key("schema");
    if (r.input.empty())
        Schema::object().write(w, refs);
    else
        r.input[0].write(w, refs);
    w.EndObject();
    w.EndObject();
    w.EndObject();
}

// The declared replies, then the errors the dispatcher and the shared checks give any such route.
void write_responses(JsonWriter& w, const Route& r, std::vector<const Schema*>& refs)
{
    std::vector<std::pair<int, std::string>> errors = {
        {400, "Bad input (the reason in err), or a disabled account"}};
    if (r.min_role != core::Role::visitor || r.fresh_session)
        errors.emplace_back(
            401, "Not logged in, a role below " + std::string(core::role_name(r.min_role)) +
                     (r.fresh_session ? ", or not the IP and agent of the login" : ""));
    if (r.owner_rule)
        errors.emplace_back(403, "Not " + r.owner_rule->text());
    if (std::any_of(r.segments.begin(), r.segments.end(),
                    [](const std::string& s) { return s.size() > 2 && s.front() == '{'; }))
        errors.emplace_back(404, "No such object");
    if (!r.input.empty() || r.body == core::Body::form)
        errors.emplace_back(415, std::string("A body that is not ") + core::media_type(r.body));
    w.Key("responses");
    w.StartObject();
    bool success = false;
    for (const auto& o : r.replies) {
        if (o.status >= 400 && o.body.empty()) {  // fails(): the error shape
            errors.emplace_back(o.status, o.doc);
            continue;
        }
        success = success || o.status < 400;
        key(w, std::to_string(o.status));
        write_response(w, o.doc, o.body.empty() ? nullptr : &o.body[0], o.media_type, refs);
    }
    if (!success) {
        w.Key("200");
        write_response(w, "JSON reply", nullptr, "", refs);
    }
    std::sort(errors.begin(), errors.end());
    for (const auto& [status, doc] : errors) {
        key(w, std::to_string(status));
        write_response(w, doc, &error_schema(), "application/json", refs);
    }
    w.EndObject();
}

void write_operation(JsonWriter& w, const Route& r, std::vector<const Schema*>& refs)
{
    w.StartObject();
    w.Key("operationId");
    string(w, r.operation());
    w.Key("summary");
    string(w, first_sentence(r.doc));
    w.Key("description");
    string(w, r.owner_rule ? r.doc + "\n\nOnly " + r.owner_rule->text() + " (else 403)." : r.doc);
    w.Key("tags");
    w.StartArray();
    string(w, r.source);
    w.EndArray();
    w.Key("x-required-role");
    w.String(core::role_name(r.min_role));
    if (r.owner_rule) {  // check_owner(): the row's owner or the bypass role, else 403
        w.Key("x-owner-rule");
        w.StartObject();
        w.Key("owner");
        string(w, r.owner_rule->owner);
        w.Key("bypass-role");
        w.String(core::role_name(r.owner_rule->bypass));
        w.EndObject();
    }
    if (r.fresh_session) {  // the IP and user agent of the login, else 401
        w.Key("x-fresh-session");
        w.Bool(true);
    }
    w.Key("security");  // a visitor route needs no cookie; the others the session cookie
    w.StartArray();
    if (r.min_role != core::Role::visitor) {
        w.StartObject();
        w.Key(kScheme);
        w.StartArray();
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    write_parameters(w, r, refs);
    write_request_body(w, r, refs);
    write_responses(w, r, refs);
    w.EndObject();
}

void write_paths(JsonWriter& w, const core::Router& router, std::vector<const Schema*>& refs)
{
    w.Key("paths");
    w.StartObject();
    std::set<std::string> done;  // one path item per pattern, its methods grouped under it
    for (const auto& r : router.routes()) {
        if (!done.insert(r.pattern).second)
            continue;
        key(w, r.pattern);
        w.StartObject();
        for (const auto& same : router.routes())
            if (same.pattern == r.pattern) {
                key(w, lower(same.method));
                write_operation(w, same, refs);
            }
        w.EndObject();
    }
    w.EndObject();
}

void write_components(JsonWriter& w, std::vector<const Schema*>& refs)
{
    w.Key("components");
    w.StartObject();
    w.Key("securitySchemes");
    w.StartObject();
    w.Key(kScheme);
    w.StartObject();
    w.Key("type");
    w.String("apiKey");
    w.Key("in");
    w.String("cookie");
    w.Key("name");
    string(w, core::settings<SessionSettings>().cookie_name);
    w.Key("description");
    w.String(
        "The session cookie set by login and signup (HttpOnly). The role a route needs "
        "is its x-required-role.");
    w.EndObject();
    w.EndObject();
    w.Key("schemas");
    w.StartObject();
    for (std::size_t i = 0; i < refs.size(); ++i) {  // writing one may add those it refers to
        const Schema* s = refs[i];
        key(w, s->name);
        s->write(w, refs, true);
    }
    w.EndObject();
    w.EndObject();
}

void write_tags(JsonWriter& w, const core::Router& router)
{
    w.Key("tags");
    w.StartArray();
    std::set<std::string> done;
    for (const auto& r : router.routes())
        if (done.insert(r.source).second) {
            w.StartObject();
            w.Key("name");
            string(w, r.source);
            w.Key("description");
            string(w, "The routes declared in " + r.source + ".");
            w.EndObject();
        }
    w.EndArray();
}

}  // namespace

std::string openapi_document(const core::Router& router)
{
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    std::vector<const Schema*> refs;
    w.StartObject();
    w.Key("openapi");
    w.String("3.0.3");
    w.Key("info");
    w.StartObject();
    w.Key("title");
    w.String("RESTPie API");
    w.Key("version");
    w.String("1.0");
    w.Key("description");
    w.String(
        "Generated from the server's route registry. Errors are JSON {\"err\": \"<status>: "
        "<message>\"}; ids are strings; the session is a cookie.");
    w.EndObject();
    w.Key("servers");  // relative: this document's own origin, behind any proxy
    w.StartArray();
    w.StartObject();
    w.Key("url");
    w.String("/");
    w.Key("description");
    w.String("The server that serves this document");
    w.EndObject();
    w.EndArray();
    write_tags(w, router);
    write_paths(w, router, refs);
    write_components(w, refs);
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize());
}

core::Reply openapi_reply(const core::Router& router)
{
    static const std::string doc =
        openapi_document(router);  // the registry is fixed once workers run
    return core::raw_json_reply(200, doc);
}

}  // namespace api
