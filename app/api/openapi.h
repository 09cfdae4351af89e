// openapi.h: /api/openapi.json, written from the route registry and its declarations.
#pragma once
#include <string>

#include "app/core/reply.h"
#include "app/core/router.h"

namespace api {

// The OpenAPI 3.0.3 document of every route in router.
std::string openapi_document(const core::Router& router);

// The document as a reply, written once per worker: the registry does not change after start.
core::Reply openapi_reply(const core::Router& router);

}  // namespace api
