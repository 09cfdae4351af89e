// support.h: small helpers every test suite shares: files, shell commands, waiting for a condition.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/core/reply.h"

namespace test {

std::string read_text(const std::string& path);  // "" when it cannot be read

// Runs a command line through the shell; returns what it wrote to stdout and stderr.
std::string command_output(const std::string& command);

// Calls cond every 50 ms until it is true or `seconds` have passed; returns its last answer.
bool poll_until(const std::function<bool()>& cond, double seconds);
void sleep_for(double seconds);

// This process's environment as "KEY=value" entries, with `overrides` replacing or adding keys:
// what a child process of a test gets.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides);

// The reply of a dispatcher whose one route (`method` /x, open to visitors) runs handler, with the
// read retry after a database error a worker has: the status and body a client would get.
core::Reply reply_to(const std::function<void()>& handler, const std::string& method = "GET");

// The value at a JSON Pointer under root (RFC 6901: "/paths/~1api~1list/get", "~1" standing for
// a "/" in a name, "/required/0" an array's first element). One that is not there fails the test
// case at once (BOOST_REQUIRE): RapidJSON's operator[] on a missing member asserts, or in a
// Release build reads past the document.
const rapidjson::Value& json_at(const rapidjson::Value& root, const std::string& pointer);
// The string at pointer; anything else fails the test case as above.
std::string json_text(const rapidjson::Value& root, const std::string& pointer);

}  // namespace test
