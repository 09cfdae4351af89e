// api_apitest.cpp: small endpoints that exercise each part of the stack, and dev-only helpers.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "app/api/routes.h"
#include "app/core/log.h"
#include "app/core/settings.h"
#include "app/core/template.h"
#include "app/model/db.h"
#include "app/red/red.h"
#include "app/tasks/jobs.h"

namespace api {
namespace {

const auto lg = core::logger("api.apitest");

core::Reply counter(core::Request&)
{
    return core::raw_json_reply(200, core::json_member("counter", red::incr("counter")));
}

core::Reply send_email(core::Request&)
{
    tasks::spool_send_email("tomi@example.com", "Hello world!",
                            "A background task sent by GET /apitest/sendemail.");
    return core::raw_json_reply(200, core::json_member("reply", "background task will start"));
}

core::Reply example_html(core::Request&)
{
    char now[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
    core::TemplateData data;
    data.set("time", now);
    return core::html_reply(200, core::render("example.html", data));
}

core::Reply db_truncate(core::Request&)
{
    model::Tx tx;
    model::truncate_all(tx);
    tx.commit();
    LOG4CPLUS_WARN(lg, "all tables emptied");
    return core::raw_json_reply(200, "{}");
}

const core::Param kSeconds = core::Param::integer("seconds", 1, 0, 600, "How long");
const core::Param kMs =
    core::Param::integer("ms", 0, 0, 600000, "How long in milliseconds, instead of seconds");

core::Schema slept()
{
    return core::Schema::object().number("slept_ms").required().number("pid").required();
}

core::Reply sleep(core::Request& req)
{
    const auto ms = req.query("ms") ? kMs.read_int(req) : kSeconds.read_int(req) * 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return core::raw_json_reply(
        200, "{\"slept_ms\":" + std::to_string(ms) + ",\"pid\":" + std::to_string(getpid()) + "}");
}

}  // namespace

void add_apitest_routes(core::Router& r)
{
    using core::Role;
    r.add("GET", "/apitest/counter", Role::visitor, counter,
          "Increment a counter in Redis atomically and return it.")
        .named("counter")
        .gives(200, core::Schema::object("Counter").number("counter").required(), "The new value");
    r.add("GET", "/examplehtml", Role::visitor, example_html,
          "A server-rendered HTML page (mustache template) with the current time.")
        .named("exampleHtml")
        .html("The page");
    // Not registered at all outside local development, so production answers 404 and the
    // route never shows in /api/list there.
    const auto& mode = core::settings<core::ModeSettings>();
    if (mode.local_dev) {
        r.add("POST", "/apitest/dbtruncate", Role::visitor, db_truncate,
              "Empty all tables. Local development only.")
            .named("dbTruncate")
            .gives(200, core::Schema::object(), "{}");
        r.add(
             "GET", "/apitest/freshsession", Role::user,
             [](core::Request&) { return core::raw_json_reply(200, "{\"fresh\":true}"); },
             "A route that needs a fresh session: the IP and user agent of the login. Local "
             "development only.")
            .named("freshSession")
            .gives(200, core::Schema::object().flag("fresh").required(), "{fresh: true}")
            .fresh_session = true;
    }
    // Routes that spool or hold a worker (the task and worker tests): in production anyone could
    // flood the queue or the workers with them.
    if (mode.local_dev || mode.test_mode) {
        r.add("GET", "/apitest/sendemail", Role::visitor, send_email,
              "Spool the sample background task send_email (it logs the mail, takes 3 s). Local "
              "development and test mode only.")
            .named("sendEmail")
            .gives(200, core::Schema::object().text("reply").required(), "The task is spooled");
        r.add("GET", "/apitest/sleep", Role::visitor, sleep,
              "Sleep, then reply with the worker's pid. Query: seconds (default 1) or ms. "
              "Local development and test mode only.")
            .named("sleep")
            .params({kSeconds, kMs})
            .gives(200, slept(), "Slept");
        r.add("POST", "/apitest/sleep", Role::visitor, sleep,
              "The same as a POST (its body is ignored), for the reload tests under POST load. "
              "Local development and test mode only.")
            .named("sleepPost")
            .params({kSeconds, kMs})
            .gives(200, slept(), "Slept");
    }
}

}  // namespace api
