// test_throttle.cpp: the login and signup throttling window math, without Redis.
#include <boost/test/unit_test.hpp>

#include "app/api/throttle.h"

BOOST_AUTO_TEST_SUITE(throttle)

BOOST_AUTO_TEST_CASE(below_the_limit_no_wait)
{
    BOOST_TEST(api::throttle_wait(0, -2, 10, 900) == 0);
    BOOST_TEST(api::throttle_wait(9, 500, 10, 900) == 0);
}

BOOST_AUTO_TEST_CASE(at_the_limit_wait_for_the_rest_of_the_window)
{
    BOOST_TEST(api::throttle_wait(10, 899, 10, 900) == 899);  // the 11th attempt waits
    BOOST_TEST(api::throttle_wait(25, 1, 10, 900) == 1);
    BOOST_TEST(api::throttle_wait(100, 30, 100, 900) == 30);
}

BOOST_AUTO_TEST_CASE(no_time_to_live_means_the_whole_window)
{
    BOOST_TEST(api::throttle_wait(10, -1, 10, 900) == 900);
    BOOST_TEST(api::throttle_wait(10, 0, 10, 900) == 900);
    BOOST_TEST(api::throttle_wait(10, 5000, 10, 900) == 900);  // never longer than a window
}

BOOST_AUTO_TEST_CASE(keys_ignore_email_case)
{
    BOOST_TEST(api::email_fail_key("Tomi@Example.COM") == api::email_fail_key("tomi@example.com"));
    BOOST_TEST(api::email_fail_key("a@b.c") != api::ip_fail_key("a@b.c"));
}

BOOST_AUTO_TEST_CASE(signup_attempts_count_themselves)
{
    // the signup counter is read after this attempt's INCR: the 10th of 10 passes, the 11th waits
    BOOST_TEST(api::attempt_wait(1, 3600, 10, 3600) == 0);
    BOOST_TEST(api::attempt_wait(10, 3000, 10, 3600) == 0);
    BOOST_TEST(api::attempt_wait(11, 3000, 10, 3600) == 3000);
    BOOST_TEST(api::attempt_wait(50, -1, 10, 3600) == 3600);
}

BOOST_AUTO_TEST_CASE(signup_counter_is_its_own_key)
{
    BOOST_TEST(api::ip_signup_key("10.0.0.1") != api::ip_fail_key("10.0.0.1"));
    BOOST_TEST(api::ip_signup_key("10.0.0.1") != api::ip_signup_key("10.0.0.2"));
}

BOOST_AUTO_TEST_SUITE_END()
