// admin.cpp: account administration from the shell, through the server's own code, so a role
// change reaches the user's live sessions at once; and spooling a background task by hand.
// Errors go to stderr with exit code 1.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <log4cplus/initializer.h>

#include "app/api/account.h"
#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/log.h"
#include "app/core/program.h"
#include "app/model/db.h"
#include "app/tasks/jobs.h"
#include "app/tasks/spooler.h"

namespace {

const char* const kUsage =
    "usage: admin [--config PATH] create-user EMAIL PASSWORD ROLE [FIRST_NAME LAST_NAME]\n"
    "       admin [--config PATH] set-role EMAIL ROLE\n"
    "       admin [--config PATH] spool TASK ARGS_JSON [--in SECONDS]\n"
    "PASSWORD - reads the password from the first line of stdin (keeps it out of ps).\n"
    "ROLE: disabled, readonly, editor, admin or superuser.\n"
    "spool: TASK as the spooler knows it, ARGS_JSON a JSON object; prints the task file.";

int run(const std::vector<std::string>& a)
{
    if (a.size() >= 4 && a[0] == "create-user" && (a.size() == 4 || a.size() == 6)) {
        api::NewAccount n{a[1], a[2], a.size() == 6 ? a[4] : "", a.size() == 6 ? a[5] : "", a[3]};
        if (n.password == "-")
            std::getline(std::cin, n.password);
        const auto u = api::create_account(n);
        std::cout << "created " << u.email << " (" << u.role << "): " << u.id << "\n";
        return 0;
    }
    if (a.size() == 3 && a[0] == "set-role") {
        const int n = api::set_role(a[1], a[2]);
        std::cout << a[1] << " is now " << a[2] << "; live sessions changed: " << n << "\n";
        return 0;
    }
    if ((a.size() == 3 || (a.size() == 5 && a[3] == "--in")) && a[0] == "spool") {
        tasks::Registry registry;
        tasks::add_all_tasks(registry);
        std::cout << tasks::spool_by_hand(registry, a[1], a[2], a.size() == 5 ? a[4] : "0") << "\n";
        return 0;
    }
    std::cerr << kUsage << "\n";
    return 1;
}

}  // namespace

int main(int argc, char** argv)
{
    log4cplus::Initializer log_init;
    std::signal(SIGPIPE, SIG_IGN);  // a dead server socket must be an error, not a silent exit
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc)
            ++i;
        else if (arg == "-h" || arg == "--help")
            return std::cout << kUsage << "\n", 0;
        else
            args.push_back(arg);
    }
    try {
        core::load_config(argc, argv, api::settings_schema());
        core::init_logging(core::config(), "admin");
        return run(args);
    } catch (const model::Unavailable& e) {
        std::cerr << "admin: database unavailable: " << e.reason << "\n";
    } catch (const std::exception& e) {
        std::cerr << "admin: " << e.what() << "\n";
    }
    return 1;
}
