// api_users.cpp: the user list, for superusers only.
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/api/schemas.h"
#include "app/model/db.h"
#include "app/model/user.h"

namespace api {
namespace {

const auto& kPage = page_param();
const auto kSize = core::Param::integer("size", 1000, 0, 1000, "Users per page");
const auto kSearch =
    core::Param::text("search", kMaxEmail, "A case-insensitive substring of names or email");

core::Reply user_query(core::Request& req)
{
    const auto page = static_cast<int>(kPage.read_int(req));
    const auto size = static_cast<int>(kSize.read_int(req));
    const auto search = kSearch.read_text(req);
    model::Tx tx{model::Tx::read};
    return core::json_reply(200, model::User::query(tx, page, size, search));
}

}  // namespace

void add_users_routes(core::Router& r)
{
    r.add("GET", "/api/users", core::Role::superuser, user_query,
          "List users ordered by email. Query: page (1-based), size (default 1000), search (in "
          "names and email).")
        .named("listUsers")
        .params({kPage, kSize, kSearch})
        .gives(200, core::Schema::array_of(user_schema()), "The users of that page");
}

}  // namespace api
