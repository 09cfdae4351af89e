// api_dev.cpp: the self-description of the server: the HTML route directory and the OpenAPI
// document, both generated from the one route registry.
#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "app/api/routes.h"
#include "app/core/log.h"
#include "app/core/settings.h"
#include "app/core/template.h"

namespace api {
namespace {

// The master sets SERVER_STARTED before it forks, so every worker reports the server's uptime.
std::string uptime()
{
    const char* s = std::getenv("SERVER_STARTED");
    const long started = s ? std::atol(s) : 0;
    long secs = started > 0 ? static_cast<long>(std::time(nullptr)) - started : 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%ldd %02ld:%02ld:%02ld", secs / 86400, secs / 3600 % 24,
                  secs / 60 % 60, secs % 60);
    return buf;
}

std::string first_sentence(const std::string& doc)
{
    const auto dot = doc.find(". ");
    return dot == std::string::npos ? doc : doc.substr(0, dot + 1);
}

std::string render_api_list(const core::Router& router)
{
    using kainjow::mustache::data;
    data routes{data::type::list};
    for (const auto& r : router.routes()) {
        data row;
        row.set("method", r.method);
        row.set("path", r.pattern);
        row.set("doc", r.doc);
        row.set("role", std::string(core::role_name(r.min_role)) +
                            (r.fresh_session ? ", fresh session" : ""));
        row.set("source", r.source);
        routes.push_back(row);
    }
    const auto& mode = core::settings<core::ModeSettings>();
    data page;
    page.set("routes", routes);
    page.set("count", std::to_string(router.routes().size()));
    page.set("local_dev", mode.local_dev ? "on" : "off");
    page.set("production", mode.production ? "on" : "off");
    page.set("test_mode", mode.test_mode ? "on" : "off");
    page.set("log_sql", core::settings<core::LogSettings>().sql ? "on" : "off");
    page.set("uptime", uptime());
    return core::render("api_list.html", page);
}

// The page changes only with its uptime, so each worker renders it at most once a second.
core::Reply api_list(const core::Router& router)
{
    static std::string page;
    static std::time_t rendered_at = 0;
    const std::time_t now = std::time(nullptr);
    if (now != rendered_at) {
        page = render_api_list(router);
        rendered_at = now;
    }
    return core::html_reply(200, page);
}

void write_operation(core::JsonWriter& w, const core::Route& r)
{
    w.StartObject();
    w.Key("summary");
    w.String(first_sentence(r.doc));
    w.Key("description");
    w.String(r.doc);
    w.Key("tags");
    w.StartArray();
    w.String(r.source);
    w.EndArray();
    w.Key("x-required-role");
    w.String(core::role_name(r.min_role));
    if (r.fresh_session) {  // the IP and user agent of the login, else 401
        w.Key("x-fresh-session");
        w.Bool(true);
    }
    w.Key("parameters");
    w.StartArray();
    for (const auto& seg : r.segments)
        if (seg.size() > 2 && seg.front() == '{') {
            w.StartObject();
            w.Key("name");
            w.String(seg.substr(1, seg.size() - 2));
            w.Key("in");
            w.String("path");
            w.Key("required");
            w.Bool(true);
            w.Key("schema");
            w.StartObject();
            w.Key("type");
            w.String("string");
            w.EndObject();
            w.EndObject();
        }
    w.EndArray();
    w.Key("responses");
    w.StartObject();
    w.Key("default");
    w.StartObject();
    w.Key("description");
    w.String(r.min_role == core::Role::visitor ? "JSON reply, or {\"err\": ...} on error"
                                               : "JSON reply; 401 without the required role");
    w.EndObject();
    w.EndObject();
    w.EndObject();
}

core::Reply openapi(const core::Router& router)
{
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    w.Key("openapi");
    w.String("3.0.3");
    w.Key("info");
    w.StartObject();
    w.Key("title");
    w.String("RESTPie API");
    w.Key("version");
    w.String("1.0");
    w.EndObject();
    w.Key("paths");
    w.StartObject();
    std::vector<std::string> done;  // one path item per pattern, methods grouped under it
    for (const auto& r : router.routes()) {
        if (std::find(done.begin(), done.end(), r.pattern) != done.end())
            continue;
        done.push_back(r.pattern);
        w.Key(r.pattern.c_str(), static_cast<rapidjson::SizeType>(r.pattern.size()));
        w.StartObject();
        for (const auto& same : router.routes())
            if (same.pattern == r.pattern) {
                std::string m;
                for (char ch : same.method)
                    m += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                w.Key(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
                write_operation(w, same);
            }
        w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    return core::raw_json_reply(200, sb.GetString());
}

}  // namespace

void add_dev_routes(core::Router& r)
{
    using core::Role;
    r.add("GET", "/", Role::visitor, [](core::Request&) { return core::redirect("/api/list"); },
          "Redirect to /api/list.");
    r.add("GET", "/api/list", Role::visitor, [&r](core::Request&) { return api_list(r); },
          "This page: every route with its methods, doc, required role and source module.");
    r.add("GET", "/api/openapi.json", Role::visitor, [&r](core::Request&) { return openapi(r); },
          "The OpenAPI 3 document of every route, generated from the route registry.");
}

}  // namespace api
