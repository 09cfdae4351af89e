// routes.h: every app/api/api_<name>.cpp is a route file: it ends with
// `void api::add_<name>_routes(core::Router& r)`, which declares its routes (api_movies.cpp:
// add_movies_routes). CMake finds the route files and generates add_all_routes() from
// app/api/all_routes.cpp.in, so a new route file is all new routes need.
#pragma once
#include "app/core/router.h"

namespace api {

// Every route file's routes, in file-name order (the order of /api/list and the OpenAPI
// document). bin/server.cpp calls it.
void add_all_routes(core::Router& r);

}  // namespace api
