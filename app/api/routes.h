// routes.h: every api file ends with one add_*_routes(); bin/server.cpp calls each of them.
#pragma once
#include "app/core/router.h"

namespace api {

void add_dev_routes(core::Router& r);        // /, /api/list, /api/openapi.json
void add_health_routes(core::Router& r);     // /api/health
void add_account_routes(core::Router& r);    // /api/login, /api/signup, /api/logout, /api/me
void add_user_routes(core::Router& r);       // /api/users
void add_movie_routes(core::Router& r);      // /api/movies/...
void add_auth_page_routes(core::Router& r);  // /auth/...
void add_apitest_routes(core::Router& r);    // /apitest/..., /examplehtml

// All of the above, in the order /api/list shows them.
inline void add_all_routes(core::Router& r)
{
    add_dev_routes(r);
    add_health_routes(r);
    add_account_routes(r);
    add_user_routes(r);
    add_movie_routes(r);
    add_auth_page_routes(r);
    add_apitest_routes(r);
}

}  // namespace api
