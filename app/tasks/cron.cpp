// cron.cpp: schedules, the job registry, the one-server guard and the scheduler's settings. The
// scheduler is cron_runner.cpp.
#include "app/tasks/cron.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/red/red.h"
#include "app/tasks/cron_scheduler.h"

namespace tasks {
namespace {

constexpr int kDaysIn[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};  // leap years too

// -1 any, -N divisible by N, else exactly.
bool field_matches(int spec, int value)
{
    if (spec == -1)
        return true;
    return spec < -1 ? value % -spec == 0 : value == spec;
}

void check_field(const char* what, int v, int min, int max)
{
    if (v == -1 || (v < -1 && v >= -max) || (v >= min && v <= max))  // -v would overflow INT_MIN
        return;
    throw std::invalid_argument(std::string("cron ") + what + " " + std::to_string(v) +
                                " out of range (" + std::to_string(min) + ".." +
                                std::to_string(max) + ", -1 or -N)");
}

}  // namespace

Schedule Schedule::every(int seconds)
{
    if (seconds <= 0)
        throw std::invalid_argument("a timer needs a period > 0 s");
    Schedule s;
    s.every_seconds = seconds;
    return s;
}

Schedule Schedule::at(int minute, int hour, int day, int month, int weekday)
{
    check_field("minute", minute, 0, 59);
    check_field("hour", hour, 0, 23);
    check_field("day", day, 1, 31);
    check_field("month", month, 1, 12);
    check_field("weekday", weekday, 0, 7);
    // The weekday alone never rules a date out for good (each date falls on every weekday in
    // some year), but day and month can: day 31 in April, day -30 (the 30th) in February.
    bool some_date = day >= 0 && weekday >= 0;  // either one matching is enough: weekday does
    for (int m = 1; m <= 12 && !some_date; ++m)
        for (int d = 1; d <= kDaysIn[m - 1] && !some_date; ++d)
            some_date = field_matches(month, m) && field_matches(day, d);
    if (!some_date)
        throw std::invalid_argument("cron day " + std::to_string(day) + " never comes in month " +
                                    std::to_string(month));
    Schedule s;
    s.minute = minute, s.hour = hour, s.day = day, s.month = month, s.weekday = weekday;
    return s;
}

bool Schedule::matches(const std::tm& t) const
{
    if (every_seconds > 0)
        return false;
    const bool day_ok = field_matches(day, t.tm_mday);
    const bool weekday_ok = field_matches(weekday == 7 ? 0 : weekday, t.tm_wday);
    const bool date_ok = day >= 0 && weekday >= 0 ? day_ok || weekday_ok : day_ok && weekday_ok;
    return date_ok && field_matches(minute, t.tm_min) && field_matches(hour, t.tm_hour) &&
           field_matches(month, t.tm_mon + 1);
}

std::string Schedule::str() const
{
    if (every_seconds > 0)
        return "every " + std::to_string(every_seconds) + " s";
    std::string out;
    for (int v : {minute, hour, day, month, weekday})
        out += (out.empty() ? "" : " ") + std::to_string(v);
    return out;
}

void Cron::add(const std::string& name, Schedule schedule, JobFn fn, std::string doc,
               int cap_seconds, const char* source)
{
    if (find(name))
        throw std::logic_error("duplicate cron job " + name);
    if (cap_seconds < 0)
        throw std::invalid_argument("cron job " + name + ": negative time cap");
    jobs_.push_back(
        Job{name, schedule, std::move(fn), std::move(doc), cap_seconds, basename(source)});
}

const Job* Cron::find(const std::string& name) const
{
    auto it =
        std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; });
    return it == jobs_.end() ? nullptr : &*it;
}

bool run_once_per(const std::string& key, std::int64_t period_seconds)
{
    if (period_seconds <= 0)
        throw std::invalid_argument("run_once_per needs a period > 0 s");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    const std::string period = std::to_string((now + local.tm_gmtoff) / period_seconds);
    // The key outlives its period a little, so a late server still finds it.
    const auto expire = static_cast<int>(std::min<std::int64_t>(2 * period_seconds, INT_MAX));
    const auto previous = red::get_set("cron:once:" + key, period, expire);
    return !previous || *previous != period;
}

std::vector<core::Key> CronSettings::keys()
{
    using core::Key;
    // cron_stats_listen: also for a config written before the key existed (provisioning writes
    // it once), so `systemctl reload app-cron` can follow the reload there too.
    return {Key::integer("cron_time_cap_seconds", 600, 1, 86400 * 7),
            Key::text("cron_stats_listen", "unix:/run/restpie/cron/stats.sock"),
            Key::integer("test_cron_minute_seconds", 60, 1, 60)};
}

CronSettings CronSettings::from(const core::Config& c)
{
    CronSettings s;
    s.cap_seconds = static_cast<int>(c.integer("cron_time_cap_seconds"));
    s.grace_seconds = static_cast<int>(c.integer("stop_grace_seconds"));
    s.stats_listen = c.str("cron_stats_listen");
    prefork::require_local("cron_stats_listen", s.stats_listen);
    s.minute_seconds =
        c.flag("test_mode") ? static_cast<int>(c.integer("test_cron_minute_seconds")) : 60;
    return s;
}

}  // namespace tasks
