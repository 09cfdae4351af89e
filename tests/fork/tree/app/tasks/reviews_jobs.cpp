// reviews_jobs.cpp: the reviews' background task and cron job (a jobs file: see jobs.h).
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/model/db.h"
#include "app/model/review.h"
#include "app/tasks/cron.h"
#include "app/tasks/jobs.h"
#include "app/tasks/spooler.h"

namespace tasks {
namespace {

const auto lg = core::logger("tasks.reviews");

// Spooled by POST /api/movies/{id}/reviews. Mail is out of scope: it logs whom it would tell.
TaskResult review_notify(const Task& t)
{
    const auto id = t.args.optional_int("review_id").value_or(0);
    try {
        model::Tx tx{model::Tx::read};
        const auto r = model::Review::get(tx, id);  // another exception: retried later
        LOG4CPLUS_INFO(lg, "review_notify: review " << r.id << " of movie " << r.movie_id << " by "
                                                    << r.author);
        return TaskResult::ok;
    } catch (const core::NotFound&) {  // deleted before the task ran: nothing to tell
        LOG4CPLUS_INFO(lg, "review_notify: review " << id << " is gone");
        return TaskResult::ignore;
    }
}

// Once a night in the whole cluster: how many reviews the last day brought.
void reviews_daily()
{
    if (!run_once_per("reviews_daily", 86400)) {
        LOG4CPLUS_INFO(lg, "reviews_daily: another server has run it today");
        return;
    }
    model::Tx tx{model::Tx::read};
    LOG4CPLUS_INFO(lg, "reviews_daily: " << model::Review::count_since(tx, 86400)
                                         << " reviews in the last day");
}

}  // namespace

void add_reviews_jobs(Registry& r, Cron& c)
{
    r.add("review_notify", review_notify, "Tell about a new review: {review_id, movie_id}.");
    c.add("reviews_daily", Schedule::at(0, 3), reviews_daily,
          "At 03:00 local time, on one server of the cluster only: the day's review count.");
}

}  // namespace tasks
