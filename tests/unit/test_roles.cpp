// test_roles.cpp: admin is a role level of its own, above editor and below superuser (README
// "Roles"); no route of the app needs admin yet, so the dispatcher is asked with routes of its own.
#include <boost/test/unit_test.hpp>

#include "app/core/dispatcher.h"

namespace {

core::Reply ok(core::Request&)
{
    return core::raw_json_reply(200, "{}");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(roles)

BOOST_AUTO_TEST_CASE(admin_is_distinct_from_editor_and_from_superuser)
{
    core::Router router;
    router.add("GET", "/editor", core::Role::editor, ok, "");
    router.add("GET", "/admin", core::Role::admin, ok, "");
    router.add("GET", "/superuser", core::Role::superuser, ok, "");
    core::Dispatcher d(router);
    std::string role;
    d.set_session_loader([&](core::Request& r) { r.session = core::Session{"u1", role}; });
    const auto ask = [&](const std::string& as, const char* path) {
        role = as;
        core::Request req(
            {{"REQUEST_METHOD", "GET"}, {"DOCUMENT_URI", path}, {"HTTP_X_REAL_IP", "10.0.0.1"}},
            "");
        return d.handle(req).status;
    };
    BOOST_TEST(ask("editor", "/editor") == 200);
    BOOST_TEST(ask("editor", "/admin") == 401);  // an editor is not an admin
    BOOST_TEST(ask("admin", "/editor") == 200);  // an admin may do what an editor may
    BOOST_TEST(ask("admin", "/admin") == 200);
    BOOST_TEST(ask("admin", "/superuser") == 401);
    BOOST_TEST(ask("superuser", "/admin") == 200);
}

BOOST_AUTO_TEST_SUITE_END()
