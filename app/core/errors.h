// errors.h: exceptions that the dispatcher turns into HTTP error replies {"err": "<status>:
// <msg>"}.
#pragma once
#include <stdexcept>
#include <string>

namespace core {

// A failure the client should see, with its status and message.
struct HttpError : std::runtime_error {
    int status;
    HttpError(int status_, const std::string& msg) : std::runtime_error(msg), status(status_) {}
};

struct BadRequest : HttpError {
    explicit BadRequest(const std::string& msg) : HttpError(400, msg) {}
};

struct NotFound : HttpError {
    explicit NotFound(const std::string& msg) : HttpError(404, msg) {}
};

// Logged in with the route's role, but not allowed this object (core::check_owner, router.h).
struct Forbidden : HttpError {
    explicit Forbidden(const std::string& msg) : HttpError(403, msg) {}
};

// A disabled account, refused at the door: 400 with exactly {"err": "account disabled"}, without
// the status prefix of other errors (RESTPie3's reply, which clients may compare).
struct AccountDisabled : HttpError {
    AccountDisabled() : HttpError(400, "account disabled") {}
};

// A backing service (PostgreSQL, Redis) is down: a fast 503, never a hang.
struct Unavailable : HttpError {
    explicit Unavailable(const std::string& msg) : HttpError(503, msg) {}
};

// Startup problems (config gaps, bad arguments): the binary exits non-zero with the message.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace core
