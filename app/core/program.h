// program.h: the frame of a binary's main: log4cplus initialised first, SIGPIPE ignored, the config
// loaded (Config::path_from, then APP_* overrides); an exception ends the program with
// "<program>: <message>" on stderr and exit code 1.
#pragma once
#include <functional>

namespace core {

int run_main(int argc, char** argv, const char* program, const std::function<int()>& body);

}  // namespace core
