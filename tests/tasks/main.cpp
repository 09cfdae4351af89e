// main.cpp: the tasks suite's entry point: real spooler and cron processes (the test helper) with
// a temporary spool directory and short caps; Redis from the test stack for the one-server guard.
#define BOOST_TEST_MODULE tasks
#include <boost/test/unit_test.hpp>

#include "tests/fixture.h"

using test::ConfigFixture;
BOOST_TEST_GLOBAL_FIXTURE(ConfigFixture);
