// test_wrappers.cpp: the typed values and errors of app/red and app/model, without Redis or
// PostgreSQL: replies read as the type asked for, and each error's reply through the dispatcher.
#include <boost/test/unit_test.hpp>

#include "app/core/dispatcher.h"
#include "app/model/db_errors.h"
#include "app/red/red.h"
#include "tests/support.h"

using test::reply_to;

BOOST_AUTO_TEST_SUITE(wrappers)

BOOST_AUTO_TEST_CASE(red_replies_are_read_as_the_type_asked_for)
{
    using Kind = red::Reply::Kind;
    BOOST_TEST(!red::Reply().string().has_value());  // nil
    BOOST_TEST(red::Reply(Kind::string, "v").string().value() == "v");
    BOOST_TEST(red::Reply(Kind::status, "OK").status() == "OK");
    BOOST_TEST(red::Reply(std::int64_t{7}).integer() == 7);
    const red::Reply list(
        std::vector<red::Reply>{red::Reply(Kind::string, "a"), red::Reply(Kind::string, "b")});
    BOOST_TEST(list.strings() == (std::vector<std::string>{"a", "b"}),
               boost::test_tools::per_element());
    BOOST_TEST(red::Reply(std::vector<red::Reply>{red::Reply(std::int64_t{1})}).integers() ==
                   std::vector<std::int64_t>{1},
               boost::test_tools::per_element());
    // Another type than asked for is an error of its own, never a silent 0 or "".
    BOOST_CHECK_THROW(red::Reply(std::int64_t{7}).string(), red::ReplyError);
    BOOST_CHECK_THROW(red::Reply(Kind::status, "OK").string(), red::ReplyError);
    BOOST_CHECK_THROW(red::Reply(Kind::string, "7").integer(), red::ReplyError);
    BOOST_CHECK_THROW(red::Reply().strings(), red::ReplyError);
    BOOST_CHECK_THROW(list.integers(), red::ReplyError);
}

BOOST_AUTO_TEST_CASE(typed_errors_keep_their_replies)
{
    const auto down =
        reply_to([] { throw red::Unavailable("redis unavailable: connection refused"); });
    BOOST_TEST(down.status == 503);
    BOOST_TEST(down.body == R"({"err":"503: redis unavailable: connection refused"})");
    const auto db = reply_to([] { throw model::Unavailable("database unavailable", "no route"); });
    BOOST_TEST(db.status == 503);
    BOOST_TEST(db.body == R"({"err":"503: database unavailable"})");  // the reason: in the log
    const auto timeout = reply_to([] { throw model::Unavailable("database timeout", "canceled"); });
    BOOST_TEST(timeout.body == R"({"err":"503: database timeout"})");
    // Not handled by a handler: a bug, as any other exception.
    BOOST_TEST(reply_to([] { throw model::EmailTaken("a@b.c"); }).status == 500);
    BOOST_TEST(reply_to([] { throw red::ReplyError("redis: WRONGTYPE"); }).status == 500);
}

BOOST_AUTO_TEST_CASE(a_read_on_a_lost_connection_runs_again)
{
    int calls = 0;
    const auto lost_once = [&] {
        if (++calls == 1)
            throw model::Unavailable("database unavailable", "server closed the connection", true);
    };
    BOOST_TEST(reply_to(lost_once).status == 200);
    BOOST_TEST(calls == 2);
    calls = 0;
    BOOST_TEST(reply_to(lost_once, "POST").status == 503);  // a write never runs twice
    BOOST_TEST(calls == 1);
    calls = 0;
    const auto unreachable = [&] {
        ++calls;
        throw model::Unavailable("database unavailable", "connection refused");
    };
    BOOST_TEST(reply_to(unreachable).status == 503);  // nothing to gain from a second try
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()
