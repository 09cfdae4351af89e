// cron.cpp: the periodic job scheduler; each run of a job is a child process with a time cap.
// See app/tasks/cron.h.
#include "app/api/settings_schema.h"
#include "app/tasks/cron.h"
#include "app/tasks/jobs.h"

int main(int argc, char** argv)
{
    return tasks::cron_main(argc, argv, api::settings_schema(), tasks::add_all_cron_jobs);
}
