// api_health.cpp: GET /api/health, for load balancers and monitors: is this server able to
// serve, with the build and the release it runs. Checked live on every call (a query and a PING,
// each under the configured timeouts), and never cached by a client (Cache-Control: no-store).
#include "app/api/routes.h"
#include "app/core/build_id.h"
#include "app/prefork/release.h"
#include "app/core/json.h"
#include "app/core/log.h"
#include "app/model/db.h"
#include "app/red/red.h"

namespace api {
namespace {

const auto lg = core::logger("api.health");

// "ok", or why not: the one word a monitor shows.
template <typename Check>
std::string probe(const char* what, Check check)
{
    try {
        check();
        return "ok";
    } catch (const std::exception& e) {
        LOG4CPLUS_WARN(lg, "health: " << what << " down: " << e.what());
        return "unavailable";
    }
}

core::Reply health(core::Request&)
{
    const auto db = probe("database", [] { model::ping(); });
    const auto redis = probe("redis", [] { red::command({"PING"}); });
    // This worker's image: after a reload the new build and release show here.
    static const std::string build = core::build_id(), release = prefork::release_id(),
                             commit = prefork::release_record("commit"),
                             by = prefork::release_record("by"),
                             at = prefork::release_record("time");
    const bool ok = db == "ok" && redis == "ok";
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    w.Key("ok");
    w.Bool(ok);
    for (const auto& [k, v] : {std::pair{"database", &db},
                               {"redis", &redis},
                               {"build", &build},
                               {"release", &release},
                               {"commit", &commit},
                               {"deployed_by", &by},
                               {"deployed_at", &at}}) {
        w.Key(k);
        w.String(v->c_str(), static_cast<rapidjson::SizeType>(v->size()));
    }
    w.EndObject();
    auto reply = core::raw_json_reply(ok ? 200 : 503, sb.GetString());
    reply.header("Cache-Control", "no-store");
    return reply;
}

core::Schema health_schema()
{
    auto s = core::Schema::object("Health").flag("ok").required();
    for (const char* k : {"database", "redis"})
        s.text(k, 0, "ok or unavailable").required();
    for (const char* k : {"build", "release", "commit", "deployed_by", "deployed_at"})
        s.text(k).required();
    return s;
}

}  // namespace

void add_health_routes(core::Router& r)
{
    r.add("GET", "/api/health", core::Role::visitor, health,
          "Whether this server can serve: checks PostgreSQL and Redis now; 200 "
          "{ok: true, database, redis, build, release, commit, deployed_by, deployed_at} or 503 "
          "with the one that is unavailable. "
          "Never cached.")
        .named("getHealth")
        .gives(200, health_schema(), "Able to serve")
        .gives(503, health_schema(), "PostgreSQL or Redis unavailable");
}

}  // namespace api
