// routes.h: every api file ends with one add_*_routes(); bin/server.cpp calls each of them.
#pragma once
#include "app/core/router.h"

namespace api {

void add_dev_routes(core::Router& r);      // /, /api/list, /api/openapi.json
void add_movie_routes(core::Router& r);    // /api/movies/...
void add_apitest_routes(core::Router& r);  // /apitest/..., /examplehtml

// All of the above, in the order /api/list shows them.
inline void add_all_routes(core::Router& r)
{
    add_dev_routes(r);
    add_movie_routes(r);
    add_apitest_routes(r);
}

}  // namespace api
