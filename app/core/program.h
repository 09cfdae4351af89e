// program.h: the frame of a binary's main: log4cplus initialised first, SIGPIPE ignored, the config
// loaded (Config::path_from, then APP_* overrides) and checked against the schema, every module's
// settings built; an exception ends the program with "<program>: <message>" on stderr and exit
// code 1 (a bad config: "server: /etc/restpie/server-config.json: config key db_name is missing").
#pragma once
#include <functional>

namespace core {

class SettingsSchema;

int run_main(int argc, char** argv, const char* program, const SettingsSchema& schema,
             const std::function<int()>& body);

// Loads the config of this process against `schema`, sets it and builds every module's settings.
// Throws ConfigError naming the file and the key.
void load_config(int argc, char** argv, const SettingsSchema& schema);

}  // namespace core
