// cron_jobs.cpp: the sample periodic jobs (a jobs file: see jobs.h). A job is a plain function (an
// exception is a failed run) that may use the model and Redis like a handler does; each run is a
// process of its own.
#include "app/core/log.h"
#include "app/tasks/cron.h"
#include "app/tasks/jobs.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.jobs");

void every_minute()
{
    LOG4CPLUS_DEBUG(lg, "every_minute: nothing to do yet");
}

void every_hour()
{
    LOG4CPLUS_DEBUG(lg, "every_hour: nothing to do yet");
}

// Work that must happen once a night in the whole cluster, however many servers run cron.
void nightly()
{
    if (!run_once_per("nightly", 86400)) {
        LOG4CPLUS_INFO(lg, "nightly: another server has run it today");
        return;
    }
    LOG4CPLUS_INFO(lg, "nightly: this server runs it today");
}

}  // namespace

void add_cron_jobs(Registry&, Cron& c)
{
    c.add("every_minute", Schedule::every(60), every_minute,
          "A timer: every 60 s from the start of cron. Does nothing yet.");
    c.add("every_hour", Schedule::at(0), every_hour, "Every hour at :00. Does nothing yet.");
    c.add("nightly", Schedule::at(0, 2), nightly,
          "At 02:00 local time, on one server of the cluster only (run_once_per).");
}

}  // namespace tasks
