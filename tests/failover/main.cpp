// main.cpp: the failover suite's entry point. The global fixture loads the config like a main does;
// each test file starts the servers it needs (servers.sh) and stops them whatever happens.
#define BOOST_TEST_MODULE failover
#include <boost/test/unit_test.hpp>

#include "tests/fixture.h"

using test::ConfigFixture;
BOOST_TEST_GLOBAL_FIXTURE(ConfigFixture);
