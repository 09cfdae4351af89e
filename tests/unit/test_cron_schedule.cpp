// test_cron_schedule.cpp: matching cron entries against local times: -1, -N, exact values, month,
// weekday, the day-or-weekday rule, and walks minute by minute across day, month and year ends;
// the scheduler's settings.
#include <boost/test/unit_test.hpp>

#include <climits>

#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/tasks/cron.h"
#include "app/tasks/cron_scheduler.h"

using tasks::Schedule;

namespace {

// The tests read local time in UTC, so the walks below have no DST gaps.
struct UtcZone {
    std::string saved;
    bool had = false;
    UtcZone()
    {
        if (const char* tz = std::getenv("TZ"))
            saved = tz, had = true;
        setenv("TZ", "UTC", 1);
        tzset();
    }
    ~UtcZone()
    {
        had ? setenv("TZ", saved.c_str(), 1) : unsetenv("TZ");
        tzset();
    }
};

std::time_t at(int year, int month, int day, int hour, int minute)
{
    std::tm t{};
    t.tm_year = year - 1900, t.tm_mon = month - 1, t.tm_mday = day;
    t.tm_hour = hour, t.tm_min = minute, t.tm_isdst = -1;
    return std::mktime(&t);
}

bool matches(const Schedule& s, std::time_t when)
{
    std::tm t{};
    localtime_r(&when, &t);
    return s.matches(t);
}

// The minutes in [from, to) at which s fires, as "YYYY-MM-DD HH:MM".
std::vector<std::string> walk(const Schedule& s, std::time_t from, std::time_t to)
{
    std::vector<std::string> out;
    for (std::time_t t = from; t < to; t += 60)
        if (matches(s, t)) {
            char buf[32];
            std::tm tm{};
            localtime_r(&t, &tm);
            std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
            out.push_back(buf);
        }
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cron_schedule, UtcZone)

BOOST_AUTO_TEST_CASE(minus_one_is_any)
{
    const auto every_minute = Schedule::at(-1);
    BOOST_TEST(matches(every_minute, at(2025, 3, 9, 13, 37)));
    BOOST_TEST(walk(every_minute, at(2025, 3, 9, 0, 0), at(2025, 3, 9, 1, 0)).size() == 60u);
}

BOOST_AUTO_TEST_CASE(exact_values)
{
    const auto nightly = Schedule::at(0, 2);
    BOOST_TEST(matches(nightly, at(2025, 3, 9, 2, 0)));
    BOOST_TEST(!matches(nightly, at(2025, 3, 9, 2, 1)));
    BOOST_TEST(!matches(nightly, at(2025, 3, 9, 14, 0)));
    BOOST_TEST(
        walk(nightly, at(2025, 3, 9, 0, 0), at(2025, 3, 12, 0, 0)) ==
        (std::vector<std::string>{"2025-03-09 02:00", "2025-03-10 02:00", "2025-03-11 02:00"}));
}

BOOST_AUTO_TEST_CASE(minus_n_means_divisible_by_n)
{
    BOOST_TEST(walk(Schedule::at(-15), at(2025, 3, 9, 10, 0), at(2025, 3, 9, 11, 0)) ==
               (std::vector<std::string>{"2025-03-09 10:00", "2025-03-09 10:15", "2025-03-09 10:30",
                                         "2025-03-09 10:45"}));
    BOOST_TEST(walk(Schedule::at(0, -6), at(2025, 3, 9, 0, 0), at(2025, 3, 10, 0, 0)) ==
               (std::vector<std::string>{"2025-03-09 00:00", "2025-03-09 06:00", "2025-03-09 12:00",
                                         "2025-03-09 18:00"}));
    // Month -3: March, June, September, December (months count from 1).
    const auto quarterly = Schedule::at(0, 0, 1, -3);
    std::vector<std::string> expected{"2025-03-01 00:00", "2025-06-01 00:00", "2025-09-01 00:00",
                                      "2025-12-01 00:00"};
    std::vector<std::string> got;
    for (int m = 1; m <= 12; ++m)
        for (const auto& s : walk(quarterly, at(2025, m, 1, 0, 0), at(2025, m, 1, 0, 1)))
            got.push_back(s);
    BOOST_TEST(got == expected);
}

BOOST_AUTO_TEST_CASE(month_and_weekday)
{
    const auto feb_first = Schedule::at(30, 8, 1, 2);
    BOOST_TEST(matches(feb_first, at(2026, 2, 1, 8, 30)));
    BOOST_TEST(!matches(feb_first, at(2026, 3, 1, 8, 30)));
    // 2025-03-10 is a Monday; weekday 1 = Monday, 0 and 7 = Sunday.
    const auto mondays = Schedule::at(0, 9, -1, -1, 1);
    BOOST_TEST(matches(mondays, at(2025, 3, 10, 9, 0)));
    BOOST_TEST(matches(mondays, at(2025, 3, 17, 9, 0)));
    BOOST_TEST(!matches(mondays, at(2025, 3, 11, 9, 0)));
    BOOST_TEST(matches(Schedule::at(0, 9, -1, -1, 0), at(2025, 3, 9, 9, 0)));
    BOOST_TEST(matches(Schedule::at(0, 9, -1, -1, 7), at(2025, 3, 9, 9, 0)));
    BOOST_TEST(!matches(Schedule::at(0, 9, -1, -1, 7), at(2025, 3, 10, 9, 0)));
    // Weekday -2: Sunday, Tuesday, Thursday, Saturday.
    const auto even_days = Schedule::at(0, 0, -1, -1, -2);
    BOOST_TEST(walk(even_days, at(2025, 3, 9, 0, 0), at(2025, 3, 16, 0, 0)).size() == 4u);
}

BOOST_AUTO_TEST_CASE(day_and_weekday_both_exact_are_ored)
{
    // The 13th, and every Friday: 2025-06-13 is a Friday, 06-20 a Friday, 07-13 a Sunday.
    const auto s = Schedule::at(0, 0, 13, -1, 5);
    BOOST_TEST(matches(s, at(2025, 6, 13, 0, 0)));
    BOOST_TEST(matches(s, at(2025, 6, 20, 0, 0)));
    BOOST_TEST(matches(s, at(2025, 7, 13, 0, 0)));
    BOOST_TEST(!matches(s, at(2025, 7, 14, 0, 0)));
    BOOST_TEST(walk(s, at(2025, 6, 1, 0, 0), at(2025, 7, 1, 0, 0)).size() == 4u);  // 6, 13, 20, 27
    // With -N in one of them the two are ANDed: even days that are Mondays.
    const auto even_mondays = Schedule::at(0, 0, -2, -1, 1);
    BOOST_TEST(!matches(even_mondays, at(2025, 3, 17, 0, 0)));  // odd Monday
    BOOST_TEST(!matches(even_mondays, at(2025, 3, 18, 0, 0)));  // even Tuesday
    BOOST_TEST(matches(even_mondays, at(2025, 3, 10, 0, 0)));   // even Monday
}

BOOST_AUTO_TEST_CASE(day_month_and_year_changes)
{
    BOOST_TEST(walk(Schedule::at(0, 0), at(2025, 12, 31, 23, 0), at(2026, 1, 1, 1, 0)) ==
               (std::vector<std::string>{"2026-01-01 00:00"}));
    BOOST_TEST(walk(Schedule::at(59, 23, 31, 12), at(2025, 12, 31, 23, 0), at(2026, 1, 1, 1, 0)) ==
               (std::vector<std::string>{"2025-12-31 23:59"}));
    BOOST_TEST(walk(Schedule::at(0, 0, 1, 1), at(2025, 12, 31, 23, 0), at(2026, 1, 1, 1, 0)) ==
               (std::vector<std::string>{"2026-01-01 00:00"}));
    // Day 31 skips the short months; day 29 of February only in a leap year.
    BOOST_TEST(walk(Schedule::at(0, 12, 31), at(2025, 4, 1, 0, 0), at(2025, 8, 1, 0, 0)) ==
               (std::vector<std::string>{"2025-05-31 12:00", "2025-07-31 12:00"}));
    BOOST_TEST(
        walk(Schedule::at(0, 0, 29, 2), at(2027, 2, 28, 0, 0), at(2027, 3, 2, 0, 0)).empty());
    BOOST_TEST(walk(Schedule::at(0, 0, 29, 2), at(2028, 2, 28, 0, 0), at(2028, 3, 2, 0, 0)) ==
               (std::vector<std::string>{"2028-02-29 00:00"}));
}

BOOST_AUTO_TEST_CASE(timers_and_bad_fields)
{
    BOOST_TEST(!matches(Schedule::every(60), at(2025, 3, 9, 0, 0)));
    BOOST_TEST(Schedule::every(60).str() == "every 60 s");
    BOOST_TEST(Schedule::at(0, 2).str() == "0 2 -1 -1 -1");
    BOOST_CHECK_THROW(Schedule::every(0), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(60), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(-60), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 24), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 0), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 32), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 1, 13), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 1, 1, 8), std::invalid_argument);
    // Found by the cron fuzzer: -INT_MIN overflowed in the range check, and a day that never
    // comes in its month made a job that never runs.
    BOOST_CHECK_THROW(Schedule::at(INT_MIN), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 31, 4), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, 30, 2, -1), std::invalid_argument);
    BOOST_CHECK_THROW(Schedule::at(0, 0, -31, -11), std::invalid_argument);  // 31 November
    BOOST_CHECK_THROW(Schedule::at(0, 0, 31, 6, -2), std::invalid_argument);
    BOOST_CHECK_NO_THROW(Schedule::at(0, 0, 29, 2));     // leap years
    BOOST_CHECK_NO_THROW(Schedule::at(0, 0, 31, 4, 1));  // day or weekday: every Monday in April
    BOOST_CHECK_NO_THROW(Schedule::at(0, 0, -31, -3));   // 31 March, 31 December
    tasks::Cron c;
    c.add(
        "a", Schedule::every(1), [] {}, "doc");
    BOOST_CHECK_THROW(c.add(
                          "a", Schedule::every(2), [] {}, "doc"),
                      std::logic_error);
    BOOST_TEST(c.find("a")->source == "test_cron_schedule.cpp");
}

BOOST_AUTO_TEST_CASE(cron_settings_take_the_test_minute_in_test_mode_only)
{
    // The ranges (test_cron_minute_seconds 1..60, cron_time_cap_seconds > 0) are the schema's,
    // checked at load (test_settings.cpp).
    core::Config c;
    c.set("cron_time_cap_seconds", std::int64_t{600});
    c.set("stop_grace_seconds", std::int64_t{30});
    c.set("cron_stats_listen", std::string("unix:/run/restpie/cron/stats.sock"));
    c.set("test_cron_minute_seconds", std::int64_t{2});
    c.set("test_mode", false);
    BOOST_TEST(tasks::CronSettings::from(c).minute_seconds == 60);
    c.set("test_mode", true);
    BOOST_TEST(tasks::CronSettings::from(c).minute_seconds == 2);
    c.set("cron_stats_listen", std::string("10.1.2.3:9000"));  // stats stay on this machine
    BOOST_CHECK_THROW(tasks::CronSettings::from(c), core::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
