// schemas.h: the objects replies carry, declared as model::User::to_json and
// model::Movie::to_json write them (tests/api check real replies against them).
#pragma once
#include "app/core/schema.h"

namespace api {

const core::Schema& user_schema();   // "User"
const core::Schema& movie_schema();  // "Movie"

}  // namespace api
