// main.cpp: the db suite's entry point; the global fixture loads the config like a main does.
#define BOOST_TEST_MODULE db
#include <boost/test/unit_test.hpp>

#include "tests/fixture.h"

using test::ConfigFixture;
BOOST_TEST_GLOBAL_FIXTURE(ConfigFixture);
