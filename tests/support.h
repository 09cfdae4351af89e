// support.h: small helpers every test suite shares: files, shell commands, waiting for a condition.
#pragma once
#include <functional>
#include <string>

namespace test {

std::string read_text(const std::string& path);  // "" when it cannot be read

// Runs a command line through the shell; returns what it wrote to stdout and stderr.
std::string command_output(const std::string& command);

// Calls cond every 50 ms until it is true or `seconds` have passed; returns its last answer.
bool poll_until(const std::function<bool()>& cond, double seconds);
void sleep_for(double seconds);

}  // namespace test
