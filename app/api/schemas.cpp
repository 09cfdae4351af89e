// schemas.cpp: User and Movie as they leave the server. Ids are strings; timestamps ISO 8601 in
// UTC without an offset ("2026-11-26T20:15:03"), so no date-time format is claimed.
#include "app/api/schemas.h"

#include "app/api/input.h"

namespace api {
namespace {

const char* const kTime = "ISO 8601, UTC, e.g. 2026-11-26T20:15:03";

}  // namespace

const core::Schema& user_schema()
{
    using core::Schema;
    // clang-format off: one member a line, with its limits
    static const Schema s =
        Schema::object("User", "An account; the password hash never leaves the server.")
            .text("id")
            .required()
            .formatted("uuid")
            .text("email", kMaxEmail)
            .required()
            .formatted("email")
            .text("first_name", kMaxName)
            .required()
            .text("last_name", kMaxName)
            .required()
            .text("fullname")
            .required()
            .text("role", 0, "disabled, readonly, editor, admin or superuser")
            .required()
            .member("tags", Schema::array_of(Schema::of(core::Type::string)))
            .required()
            .text("created", 0, kTime)
            .required()
            .text("modified", 0, kTime)
            .required();
    // clang-format on
    return s;
}

const core::Schema& movie_schema()
{
    using core::Schema;
    // clang-format off: one member a line, with its limits
    static const Schema s = Schema::object("Movie")
                                .text("id", 0, "An integer, as a string: \"17\"")
                                .required()
                                .text("title", kMaxTitle)
                                .required()
                                .text("director", kMaxTitle, "\"\" when unknown")
                                .required()
                                .text("creator", 0,
                                      "The user id of its creator; null when that "
                                      "account is gone")
                                .required()
                                .or_null()
                                .formatted("uuid")
                                .text("created", 0, kTime)
                                .required()
                                .text("modified", 0, kTime)
                                .required();
    // clang-format on
    return s;
}

}  // namespace api
