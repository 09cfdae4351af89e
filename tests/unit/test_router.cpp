// test_router.cpp: route matching, parameters, 405 methods, duplicates, roles.
#include <boost/test/unit_test.hpp>

#include "app/core/router.h"

namespace core {
std::ostream& operator<<(std::ostream& os, Role r)
{
    return os << role_name(r);
}
}  // namespace core

namespace {
core::Reply echo_handler(core::Request&)
{
    return core::raw_json_reply(200, "{}");
}
}  // namespace

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(path_param_is_captured)
{
    core::Router r;
    r.add("GET", "/api/movies/{id}", core::Role::visitor, echo_handler, "test");
    auto m = r.match("GET", "/api/movies/42");
    BOOST_REQUIRE(m);
    BOOST_TEST(m->params.at("id") == "42");
    BOOST_TEST(m->route->source == "test_router.cpp");
}

BOOST_AUTO_TEST_CASE(trailing_slash_and_empty_param_do_not_match)
{
    core::Router r;
    r.add("GET", "/api/movies/", core::Role::visitor, echo_handler, "list");
    r.add("GET", "/api/movies/{id}", core::Role::visitor, echo_handler, "one");
    BOOST_TEST(r.match("GET", "/api/movies/")->route->doc == "list");
    BOOST_TEST(r.match("GET", "/api/movies/7")->route->doc == "one");
    BOOST_TEST(!r.match("GET", "/api/movies"));
    BOOST_TEST(!r.match("GET", "/api/movies/7/x"));
    BOOST_TEST(!r.match("GET", "/api/moviesx/7"));
}

BOOST_AUTO_TEST_CASE(method_must_match_and_methods_for_lists_alternatives)
{
    core::Router r;
    r.add("GET", "/api/movies/{id}", core::Role::visitor, echo_handler, "get");
    r.add("DELETE", "/api/movies/{id}", core::Role::editor, echo_handler, "del");
    BOOST_TEST(!r.match("POST", "/api/movies/1"));
    BOOST_TEST(r.match("DELETE", "/api/movies/1")->route->min_role == core::Role::editor);
    const auto methods = r.methods_for("/api/movies/1");
    BOOST_TEST(methods.size() == 2u);
    BOOST_TEST(r.methods_for("/nothing").empty());
}

BOOST_AUTO_TEST_CASE(duplicate_route_throws)
{
    core::Router r;
    r.add("GET", "/a", core::Role::visitor, echo_handler, "one");
    BOOST_CHECK_THROW(r.add("GET", "/a", core::Role::visitor, echo_handler, "two"),
                      std::logic_error);
    BOOST_CHECK_NO_THROW(r.add("POST", "/a", core::Role::visitor, echo_handler, "three"));
}

BOOST_AUTO_TEST_CASE(fresh_session_flag_is_set_on_the_added_route)
{
    core::Router r;
    r.add("GET", "/a", core::Role::user, echo_handler, "plain");
    r.add("POST", "/a", core::Role::user, echo_handler, "critical").fresh_session = true;
    r.add("PUT", "/a", core::Role::user, echo_handler, "later");  // the vector may have moved
    BOOST_TEST(!r.match("GET", "/a")->route->fresh_session);
    BOOST_TEST(r.match("POST", "/a")->route->fresh_session);
    BOOST_TEST(!r.match("PUT", "/a")->route->fresh_session);
}

BOOST_AUTO_TEST_CASE(roles_order_and_names)
{
    BOOST_TEST(core::Role::readonly < core::Role::editor);
    BOOST_TEST(core::Role::admin < core::Role::superuser);
    BOOST_TEST(*core::role_from_name("editor") == core::Role::editor);
    BOOST_TEST(!core::role_from_name("disabled"));
    BOOST_TEST(!core::role_from_name("root"));
    BOOST_TEST(std::string(core::role_name(core::Role::superuser)) == "superuser");
}

BOOST_AUTO_TEST_SUITE_END()
