// migrate.cpp: `migrate [--config PATH] [up|status|down]` (default up) applies, reports or rolls
// back the migrations in config migrations_dir. Errors go to stderr with exit code 1.
#include <csignal>
#include <iostream>
#include <string>

#include <log4cplus/initializer.h>

#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/log.h"
#include "app/core/program.h"
#include "app/model/db.h"
#include "app/model/migrations.h"

namespace {

const char* const kUsage = "usage: migrate [--config PATH] [up|status|down]";

}  // namespace

int main(int argc, char** argv)
{
    log4cplus::Initializer log_init;
    std::signal(SIGPIPE, SIG_IGN);  // a dead server socket must be an error, not a silent exit

    std::string command = "up";
    int verbs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            ++i;
        } else if (arg == "-h" || arg == "--help") {
            std::cout << kUsage << "\n";
            return 0;
        } else if ((arg == "up" || arg == "status" || arg == "down") && verbs++ == 0) {
            command = arg;
        } else {
            std::cerr << "migrate: unexpected argument: " << arg << "\n" << kUsage << "\n";
            return 1;
        }
    }

    try {
        core::load_config(argc, argv, api::settings_schema());
        core::init_logging(core::config(), "migrate");
        model::run_migrate(model::db(), core::settings<model::DbSettings>().migrations_dir, command,
                           std::cout);
        return 0;
    } catch (const model::Unavailable& e) {
        std::cerr << "migrate: database unavailable: " << e.reason << "\n";
    } catch (const std::exception& e) {
        std::cerr << "migrate: " << e.what() << "\n";
    }
    return 1;
}
