// main.cpp: build/tests/task_helper spooler|cron [args]: the spooler or cron binary, with the test
// tasks and jobs added; the tasks suite runs it as real processes.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "app/api/settings_schema.h"
#include "app/tasks/cron.h"
#include "app/tasks/jobs.h"
#include "app/tasks/spooler.h"
#include "tests/helper/test_jobs.h"

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "spooler")
        return tasks::spooler_main(argc, argv, api::settings_schema(), [](tasks::Registry& r) {
            tasks::add_all_tasks(r);
            test::add_test_tasks(r);
        });
    if (mode == "cron") {
        // A slow start of the image a reload re-executes, so the reload straddles a minute's start.
        const char* delay = std::getenv("TEST_CRON_REEXEC_DELAY_MS");
        if (delay && std::getenv(tasks::kCronHandoverEnv))
            std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(delay)));
        return tasks::cron_main(argc, argv, api::settings_schema(), test::add_test_jobs);
    }
    std::cerr << "usage: task_helper spooler|cron [--config FILE]" << std::endl;
    return 2;
}
