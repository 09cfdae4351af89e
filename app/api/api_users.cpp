// api_users.cpp: the user list, for superusers only.
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/model/db.h"
#include "app/model/user.h"

namespace api {
namespace {

core::Reply user_query(core::Request& req)
{
    const auto page = static_cast<int>(req.query_int("page", 1, 0, 1000000));
    const auto size = static_cast<int>(req.query_int("size", 1000, 0, 1000));
    const auto search = req.query("search").value_or("");
    check_line("search", search, kMaxEmail);
    model::Tx tx{model::Tx::read};
    return core::json_reply(200, model::User::query(tx, page, size, search));
}

}  // namespace

void add_user_routes(core::Router& r)
{
    r.add("GET", "/api/users", core::Role::superuser, user_query,
          "List users ordered by email. Query: page (1-based), size (default 1000), search (in "
          "names and email).");
}

}  // namespace api
