// program.cpp: see program.h.
#include "app/core/program.h"

#include <signal.h>

#include <exception>
#include <iostream>

#include <log4cplus/initializer.h>

#include "app/core/config.h"
#include "app/core/settings.h"

namespace core {

void load_config(int argc, char** argv, const SettingsSchema& schema)
{
    set_config(Config::load(Config::path_from(argc, argv), schema));
    schema.build_all();
}

int run_main(int argc, char** argv, const char* program, const SettingsSchema& schema,
             const std::function<int()>& body)
{
    log4cplus::Initializer log_init;
    signal(SIGPIPE, SIG_IGN);  // a dead peer is an error return, never a killed process
    try {
        load_config(argc, argv, schema);
        return body();
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << std::endl;
        return 1;
    }
}

}  // namespace core
