// fuzz_cron.cpp: cron schedules (tasks::Schedule): any five fields either are refused with
// std::invalid_argument or make a schedule that prints its fields and runs some day.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "app/tasks/cron.h"
#include "tests/fuzz/fuzz.h"

namespace {

// Mostly values near the valid ranges, sometimes any int: the edges are where bugs are.
int field(FuzzedDataProvider& in)
{
    return in.ConsumeBool() ? in.ConsumeIntegralInRange(-70, 70) : in.ConsumeIntegral<int>();
}

// Whether s matches some minute in the 29 years from `start`: from 1901 to 2099 the calendar
// repeats every 28 years, so a date on a weekday that ever comes (Sunday 29 February too) comes
// in that time. Searched day by day at the one time of day the minute and hour fields surely
// allow (-1 and -N allow 0).
bool runs_within_29_years(const tasks::Schedule& s, std::time_t start)
{
    const int hour = s.hour >= 0 ? s.hour : 0, minute = s.minute >= 0 ? s.minute : 0;
    for (int day = 0; day < 29 * 366; ++day) {
        const std::time_t t = start + static_cast<std::time_t>(day) * 86400;
        std::tm tm{};
        gmtime_r(&t, &tm);
        tm.tm_hour = hour;
        tm.tm_min = minute;
        if (s.matches(tm))
            return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const int minute = field(in), hour = field(in), day = field(in), month = field(in),
              weekday = field(in), seconds = field(in);
    // From 1970 to 2070, so that the search stays before 2100, which breaks the 28-year cycle.
    const auto start =
        static_cast<std::time_t>(in.ConsumeIntegralInRange<std::int64_t>(0, 3155760000));

    try {
        const auto timer = tasks::Schedule::every(seconds);
        FUZZ_CHECK(seconds > 0 && timer.every_seconds == seconds, "every() took a bad period");
        std::tm tm{};
        FUZZ_CHECK(!timer.matches(tm), "a timer matched a date");
    } catch (const std::invalid_argument&) {
        FUZZ_CHECK(seconds <= 0, "every() refused a good period");
    }

    tasks::Schedule s;
    try {
        s = tasks::Schedule::at(minute, hour, day, month, weekday);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    // str() lists the five fields in order, as the job list shows them.
    int f[5];
    FUZZ_CHECK(
        std::sscanf(s.str().c_str(), "%d %d %d %d %d", &f[0], &f[1], &f[2], &f[3], &f[4]) == 5 &&
            f[0] == minute && f[1] == hour && f[2] == day && f[3] == month && f[4] == weekday,
        "str() does not list the fields");
    FUZZ_CHECK_SHOW(runs_within_29_years(s, start),
                    "Schedule::at accepted a schedule that never runs", s.str());
    return 0;
}
