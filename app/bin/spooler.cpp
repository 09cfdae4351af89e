// spooler.cpp: the background task runner: a master (supervisor) with spooler_processes processes
// taking tasks from spool_dir; `build/spooler --stats` prints the counters. See
// app/tasks/spooler.h.
#include "app/api/settings_schema.h"
#include "app/tasks/jobs.h"
#include "app/tasks/spooler.h"

int main(int argc, char** argv)
{
    return tasks::spooler_main(argc, argv, api::settings_schema(), tasks::add_all_tasks);
}
