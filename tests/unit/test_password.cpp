// test_password.cpp: scrypt hashes, the password rules and random tokens.
#include <boost/test/unit_test.hpp>

#include <set>

#include "app/core/password.h"

BOOST_AUTO_TEST_SUITE(password)

BOOST_AUTO_TEST_CASE(hash_and_check)
{
    const auto h = core::hash_password("123abC");
    BOOST_TEST(h.rfind("$s1$", 0) == 0u);  // self-describing, salt and parameters inside
    BOOST_TEST(h.find("123abC") == std::string::npos);
    BOOST_TEST(core::check_password(h, "123abC"));
    BOOST_TEST(!core::check_password(h, "123abc"));
    BOOST_TEST(core::hash_password("123abC") != h);  // a fresh salt each time
    BOOST_TEST(!core::check_password("garbage", "123abC"));
    BOOST_TEST(!core::check_password("", "x"));
    BOOST_TEST(!core::check_password(core::dummy_hash(), "123abC"));
}

BOOST_AUTO_TEST_CASE(rules)
{
    BOOST_TEST(!core::password_problem("123abC"));
    BOOST_TEST(!!core::password_problem("1234"));
    BOOST_TEST(!!core::password_problem("abcdef"));
    BOOST_TEST(!!core::password_problem("ABCdef"));
    BOOST_TEST(!!core::password_problem("12345a"));
    BOOST_TEST(!!core::password_problem("1aB"));
}

BOOST_AUTO_TEST_CASE(tokens_are_random_hex)
{
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const auto t = core::random_token(16);
        BOOST_TEST(t.size() == 32u);
        BOOST_TEST(t.find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(t);
    }
    BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
