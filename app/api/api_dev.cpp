// api_dev.cpp: the self-description of the server: the HTML route directory and the OpenAPI
// document, both generated from the one route registry.
#include <cstdlib>
#include <ctime>

#include "app/api/openapi.h"
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
                            (r.fresh_session ? ", fresh session" : "") +
                            (r.owner_rule ? "; only " + r.owner_rule->text() : ""));
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

}  // namespace

void add_dev_routes(core::Router& r)
{
    using core::Role;
    r.add(
         "GET", "/", Role::visitor, [](core::Request&) { return core::redirect("/api/list"); },
         "Redirect to /api/list.")
        .named("root")
        .gives(302, "To /api/list");
    r.add(
         "GET", "/api/list", Role::visitor, [&r](core::Request&) { return api_list(r); },
         "This page: every route with its methods, doc, required role (and ownership rule) and "
         "source module.")
        .named("listRoutes")
        .html("The route directory");
    r.add(
         "GET", "/api/openapi.json", Role::visitor,
         [&r](core::Request&) { return openapi_reply(r); },
         "The OpenAPI 3 document of every route, generated from the route registry.")
        .named("getOpenApi")
        .gives(200, core::Schema::any_object("This document"), "The document");
}

}  // namespace api
