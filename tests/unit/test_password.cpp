// test_password.cpp: scrypt hashes, RESTPie3's hashes, the password rules and random tokens.
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

// Made by passlib 1.7.4 (Debian's python3-passlib) as RESTPie3 made them:
// CryptContext(schemes=["pbkdf2_sha256", "bcrypt"]).hash(password), and pbkdf2_sha256 with a
// given salt and rounds.
BOOST_AUTO_TEST_CASE(restpie3_pbkdf2_sha256_hashes_are_checked)
{
    const std::string random_salt =
        "$pbkdf2-sha256$29000$EKI0pnQOgfAeo7TWGsM4xw$"
        "0v1oqI1f8fI/TgHddnK107j2u.sbm7JGqaPgNixhSc4";
    const std::string text_salt =
        "$pbkdf2-sha256$29000$cmVzdHBpZTMtc2FsdDE2Yg$"  // restpie3-salt16b
        "l2LP1tgWVY3Tnzb85EmTjqXSZu/mJ1vq8D.6wtcRXog";
    const std::string utf8 =
        "$pbkdf2-sha256$1000$AP8QgGFiYw$"  // salt 00 ff 10 80 61 62 63
        "lVsA0DCtnGmXF3RVUk402Rt8qpjGMlx99p8w8x40plo";
    BOOST_TEST(core::check_password(random_salt, "Secret12"));
    BOOST_TEST(core::check_password(text_salt, "Secret12"));
    BOOST_TEST(core::check_password(utf8, "p\xc3\xa4ssw\xc3\xb6rd 1A"));
    BOOST_TEST(!core::check_password(random_salt, "Secret13"));
    BOOST_TEST(!core::check_password(text_salt, "secret12"));
    BOOST_TEST(!core::check_password(utf8, "p\xe4ssw\xf6rd 1A"));  // the same in Latin-1
    BOOST_TEST(core::needs_rehash(random_salt));
    BOOST_TEST(!core::needs_rehash(core::hash_password("Secret12")));

    // Anything off is no match, never an exception: another round count, salt or checksum, a
    // field missing or empty, characters outside the alphabet, a checksum of the wrong length,
    // rounds past the cap, and schemes RESTPie3 could hold but this server does not read.
    const auto with = [&](const std::string& from, const std::string& to) {
        std::string h = text_salt;
        return h.replace(h.find(from), from.size(), to);
    };
    for (const std::string& bad :
         {with("29000", "29001"), with("29000", "0"), with("29000", ""), with("29000", "-1"),
          with("29000", "99999999999"), with("29000", "1e4"), with("cmVz", "cmVy"),
          with("cmVzdHBpZTMtc2FsdDE2Yg", ""), with("l2LP", "l2LQ"), with("l2LP", "l2L+"),
          with("Xog", "Xo"), with("Xog", "XogAAAA"), with("$l2LP", "l2LP"),
          std::string("$pbkdf2-sha256$"), std::string("$pbkdf2-sha256$29000$$"),
          std::string("$2b$04$abcdefghijklmnopqrstuunDUYL8xf8uHexQGSBZjZj8g4ohiZfrC"),
          std::string("$pbkdf2$29000$cmVz$AAAA")})
        BOOST_TEST(!core::check_password(bad, "Secret12"), bad);
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
