// spool_jobs.cpp: the sample background task (a jobs file: see jobs.h). A task is a plain function
// of its JSON arguments that returns ok, retry or ignore (an exception means retry); it may use the
// model and Redis like a handler does, with this spooler process's own connections.
#include <chrono>
#include <thread>

#include "app/core/log.h"
#include "app/tasks/cron.h"
#include "app/tasks/jobs.h"
#include "app/tasks/spool.h"
#include "app/tasks/spooler.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.jobs");
const char* const kSendEmail = "send_email";

// The sample: mail is out of scope, so it logs what it would send and takes a few seconds.
TaskResult send_email(const Task& t)
{
    const auto to = t.args.required_string("to");
    LOG4CPLUS_INFO(lg, "send_email to " << to << ": "
                                        << t.args.optional_string("subject").value_or("") << " | "
                                        << t.args.optional_string("body").value_or(""));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    return TaskResult::ok;
}

}  // namespace

std::string spool_send_email(const std::string& to, const std::string& subject,
                             const std::string& body)
{
    return spool(kSendEmail, Args().add("to", to).add("subject", subject).add("body", body));
}

void add_spool_jobs(Registry& r, Cron&)
{
    r.add(kSendEmail, send_email,
          "Send an email: {to, subject, body}. The sample logs the mail and takes 3 seconds.");
}

}  // namespace tasks
