// test_model_user.cpp: model::User and the db helpers against a real PostgreSQL. Every case uses
// a transaction it never commits, so the database is left as it was.
#include <regex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <log4cplus/appender.h>
#include <log4cplus/spi/loggingevent.h>
#include <rapidjson/document.h>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/log.h"
#include "app/model/sql.h"  // model::exec for the checks
#include "app/model/migrations.h"
#include "app/model/user.h"

namespace {

// The suites need the real schema; applying pending migrations is idempotent.
struct UserSchema {
    UserSchema() { model::Migrator(model::db(), core::config().str("migrations_dir")).up(); }
};

model::User make_user(const std::string& email, const std::string& first = "Ann",
                      const std::string& last = "Lee")
{
    model::User u;
    u.email = email;
    u.password = "$s1$0e0801$SECRET-HASH-DO-NOT-LEAK";
    u.first_name = first;
    u.last_name = last;
    u.role = "editor";
    return u;
}

bool is_iso_utc(const std::string& s)
{
    return std::regex_match(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)"));
}

bool message_is(const core::HttpError& e, int status, const std::string& msg)
{
    return e.status == status && msg == e.what();
}

std::vector<std::string> emails(const std::vector<model::User>& users)
{
    std::vector<std::string> out;
    for (const auto& u : users)
        out.push_back(u.email);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_user, *boost::unit_test::fixture<UserSchema>())

BOOST_AUTO_TEST_CASE(insert_and_get_round_trip)
{
    model::Tx tx;
    auto u = make_user("round.trip@model-test.invalid");
    u.tags = {"plain", "with,comma", "with \"quote\"", "back\\slash", "NULL", "{brace}", ""};
    u.insert(tx);
    BOOST_TEST(model::is_uuid(u.id));
    BOOST_TEST(is_iso_utc(u.created));
    BOOST_TEST(u.created == u.modified);

    const auto g = model::User::get(tx, u.id);
    BOOST_TEST(g.id == u.id);
    BOOST_TEST(g.email == u.email);
    BOOST_TEST(g.password == u.password);
    BOOST_TEST(g.first_name == "Ann");
    BOOST_TEST(g.last_name == "Lee");
    BOOST_TEST(g.role == "editor");
    BOOST_TEST(g.tags == u.tags, boost::test_tools::per_element());
    BOOST_TEST(g.created == u.created);
    BOOST_TEST(g.modified == u.modified);
}

BOOST_AUTO_TEST_CASE(role_defaults_to_readonly)
{
    model::Tx tx;
    model::User u;
    u.email = "defaults@model-test.invalid";
    u.password = "x";
    u.insert(tx);
    const auto g = model::User::get(tx, u.id);
    BOOST_TEST(g.role == "readonly");
    BOOST_TEST(g.tags.empty());
}

BOOST_AUTO_TEST_CASE(get_by_email_ignores_case)
{
    model::Tx tx;
    auto u = make_user("Mixed.Case@Model-Test.invalid");
    u.insert(tx);
    auto found = model::User::get_by_email(tx, "mixed.case@MODEL-TEST.INVALID");
    BOOST_REQUIRE(found);
    BOOST_TEST(found->id == u.id);
    BOOST_TEST(found->email == "Mixed.Case@Model-Test.invalid");  // stored as typed
    BOOST_TEST(!model::User::get_by_email(tx, "nobody@model-test.invalid"));
    BOOST_TEST(!model::User::get_by_email(tx, "mixed.case@model-test.invalid "));
}

BOOST_AUTO_TEST_CASE(email_is_unique_regardless_of_case)
{
    model::Tx tx;
    make_user("taken@model-test.invalid").insert(tx);
    auto dup = make_user("TAKEN@model-test.INVALID");
    BOOST_CHECK_THROW(dup.insert(tx), model::EmailTaken);
}

BOOST_AUTO_TEST_CASE(to_json_never_contains_the_password)
{
    model::Tx tx;
    auto u = make_user("json@model-test.invalid");
    u.tags = {"a", "b"};
    u.insert(tx);
    const std::string text = core::to_json(model::User::get(tx, u.id));
    BOOST_TEST(text.find("password") == std::string::npos);
    BOOST_TEST(text.find("SECRET-HASH") == std::string::npos);

    rapidjson::Document d;
    d.Parse(text.c_str());
    BOOST_REQUIRE(d.IsObject());
    BOOST_TEST(d.MemberCount() == 9u);
    for (const char* key :
         {"id", "email", "first_name", "last_name", "fullname", "role", "created", "modified"}) {
        BOOST_TEST_CONTEXT(key)
        {
            BOOST_REQUIRE(d.HasMember(key));
            BOOST_TEST(d[key].IsString());
        }
    }
    BOOST_TEST(std::string(d["id"].GetString()) == u.id);
    BOOST_TEST(std::string(d["fullname"].GetString()) == "Ann Lee");
    BOOST_REQUIRE(d["tags"].IsArray());
    BOOST_TEST(d["tags"].Size() == 2u);
    BOOST_TEST(std::string(d["tags"][1].GetString()) == "b");
}

BOOST_AUTO_TEST_CASE(fullname_is_trimmed)
{
    model::User u;
    u.first_name = "Ann";
    BOOST_TEST(u.fullname() == "Ann");
    u.first_name = "";
    u.last_name = "Lee";
    BOOST_TEST(u.fullname() == "Lee");
    u.last_name = "";
    BOOST_TEST(u.fullname() == "");
}

BOOST_AUTO_TEST_CASE(missing_and_malformed_ids_are_not_found)
{
    model::Tx tx;
    const std::string missing = "2770060c-ebea-495f-b93f-509196e4bc73";
    BOOST_CHECK_EXCEPTION(
        model::User::get(tx, missing), core::NotFound,
        [&](const core::NotFound& e) { return message_is(e, 404, "user " + missing); });
    for (const std::string bad : {"17", "", "not-a-uuid", "2770060c-ebea-495f-b93f-509196e4bc7Z",
                                  "'; DROP TABLE users; --"}) {
        BOOST_TEST_CONTEXT(bad)
        {
            BOOST_CHECK_THROW(model::User::get(tx, bad), core::NotFound);
            BOOST_CHECK_THROW(model::User::set_role(tx, bad, "admin"), core::NotFound);
        }
    }
    // No SQL error happened: the transaction is still usable.
    BOOST_TEST(model::exec(tx, "SELECT 1")[0][0].as<int>() == 1);
    BOOST_CHECK_THROW(model::User::set_role(tx, missing, "admin"), core::NotFound);
    model::User ghost = make_user("ghost@model-test.invalid");
    ghost.id = missing;
    BOOST_CHECK_THROW(ghost.update(tx), core::NotFound);
}

BOOST_AUTO_TEST_CASE(update_writes_fields_and_sets_modified)
{
    model::Tx tx;
    auto u = make_user("update@model-test.invalid");
    u.insert(tx);
    // now() is fixed for the transaction, so age the row to see modified move.
    model::exec(tx,
                "UPDATE users SET created = now() - interval '1 day', "
                "modified = now() - interval '1 day' WHERE id = $1::uuid",
                u.id);
    const auto old = model::User::get(tx, u.id);
    BOOST_TEST(old.modified != u.modified);

    auto changed = old;
    changed.first_name = "Anna";
    changed.email = "updated@model-test.invalid";
    changed.tags = {"x"};
    changed.update(tx);
    BOOST_TEST(changed.modified == u.modified);  // back to this transaction's now()
    BOOST_TEST(changed.created == old.created);

    const auto g = model::User::get(tx, u.id);
    BOOST_TEST(g.first_name == "Anna");
    BOOST_TEST(g.email == "updated@model-test.invalid");
    BOOST_TEST(g.tags == std::vector<std::string>{"x"}, boost::test_tools::per_element());
    BOOST_TEST(g.modified == changed.modified);
    BOOST_TEST(g.modified > old.modified);  // ISO text sorts like time
}

BOOST_AUTO_TEST_CASE(set_role_changes_the_role)
{
    model::Tx tx;
    auto u = make_user("role@model-test.invalid");
    u.insert(tx);
    model::User::set_role(tx, u.id, "superuser");
    BOOST_TEST(model::User::get(tx, u.id).role == "superuser");
}

BOOST_AUTO_TEST_CASE(query_pages_by_email_and_searches_literally)
{
    model::Tx tx;
    for (const char* e :
         {"qxu-3@model-test.invalid", "qxu-1@model-test.invalid", "qxu-5@model-test.invalid",
          "qxu-2@model-test.invalid", "qxu-4@model-test.invalid"})
        make_user(e).insert(tx);
    make_user("pct@model-test.invalid", "Qxv", "100%_sure").insert(tx);
    make_user("nopct@model-test.invalid", "Qxv", "100xysure").insert(tx);
    make_user("slash@model-test.invalid", "Qxv\\w", "Doe").insert(tx);

    BOOST_TEST(
        emails(model::User::query(tx, 1, 2, "QXU-")) ==
            (std::vector<std::string>{"qxu-1@model-test.invalid", "qxu-2@model-test.invalid"}),
        boost::test_tools::per_element());
    BOOST_TEST(emails(model::User::query(tx, 3, 2, "qxu-")) ==
                   std::vector<std::string>{"qxu-5@model-test.invalid"},
               boost::test_tools::per_element());
    BOOST_TEST(model::User::query(tx, 4, 2, "qxu-").empty());
    BOOST_TEST(emails(model::User::query(tx, 0, 2, "qxu-")) ==
                   emails(model::User::query(tx, 1, 2, "qxu-")),
               boost::test_tools::per_element());
    BOOST_TEST(model::User::query(tx, 1, 100, "qxu-").size() == 5u);

    // Names are searched too, and % _ \ are plain characters, not wildcards.
    BOOST_TEST(emails(model::User::query(tx, 1, 10, "0%_s")) ==
                   std::vector<std::string>{"pct@model-test.invalid"},
               boost::test_tools::per_element());
    BOOST_TEST(emails(model::User::query(tx, 1, 10, "qxv\\")) ==
                   std::vector<std::string>{"slash@model-test.invalid"},
               boost::test_tools::per_element());
    BOOST_TEST(model::User::query(tx, 1, 10, "0_x").empty());
    BOOST_TEST(model::User::query(tx, 1, 10, "").size() >= 8u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Collects the messages logged on one logger, to see what the SQL log would show.
class Capture : public log4cplus::Appender {
public:
    std::vector<std::string> lines;
    ~Capture() override { destructorImpl(); }
    void close() override {}

protected:
    void append(const log4cplus::spi::InternalLoggingEvent& ev) override
    {
        lines.push_back(ev.getMessage());
    }
};

int backend_pid()
{
    model::Tx tx{model::Tx::read};
    return model::exec(tx, "SELECT pg_backend_pid()")[0][0].as<int>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_db, *boost::unit_test::fixture<UserSchema>())

BOOST_AUTO_TEST_CASE(db_reset_reconnects)
{
    const int before = backend_pid();
    BOOST_TEST(backend_pid() == before);  // one connection per process, reused
    model::db_reset();
    BOOST_TEST(backend_pid() != before);
}

BOOST_AUTO_TEST_CASE(lost_connection_is_a_503_a_read_may_retry_and_reconnects)
{
    const int victim = backend_pid();
    {
        auto other = model::connect(model::conninfo(core::settings<model::DbSettings>()));
        model::Tx tx{*other, model::Tx::read};
        model::exec(tx, "SELECT pg_terminate_backend($1)", victim);
    }
    // What the dispatcher sees: a 503 that a read may retry; the next use reconnects by itself.
    BOOST_CHECK_EXCEPTION(backend_pid(), model::Unavailable, [](const model::Unavailable& e) {
        return std::string(e.what()) == "database unavailable" && e.retry_read &&
               model::retry_read_after_db_error(e);
    });
    BOOST_TEST(backend_pid() != victim);
}

BOOST_AUTO_TEST_CASE(statement_timeout_is_unavailable_and_keeps_the_connection)
{
    const int pid = backend_pid();
    {
        model::Tx tx;
        model::exec(tx, "SET LOCAL statement_timeout = 50");
        BOOST_CHECK_EXCEPTION(model::exec(tx, "SELECT pg_sleep(2)"), model::Unavailable,
                              [](const model::Unavailable& e) {
                                  return std::string(e.what()) == "database timeout" &&
                                         !model::retry_read_after_db_error(e);
                              });
    }
    model::ping();
    BOOST_TEST(backend_pid() == pid);
}

BOOST_AUTO_TEST_CASE(unreachable_server_is_unavailable)
{
    const core::Config saved = core::config();
    core::Config c = saved;
    c.set("db_port", std::int64_t{1});
    core::set_config(c);
    model::db_reset();
    BOOST_CHECK_EXCEPTION(model::db(), core::Unavailable, [](const core::Unavailable& e) {
        return e.status == 503 && std::string(e.what()) == "database unavailable";
    });
    core::set_config(saved);
    BOOST_TEST(backend_pid() > 0);  // the next use connects again
}

// iso_utc() reads what MODEL_UTC selects and must write exactly what to_char did before it, for
// any time: with and without a fraction, near a second's end, a day's end, past year 9999, BC.
BOOST_AUTO_TEST_CASE(iso_utc_writes_what_to_char_wrote)
{
    model::Tx tx{model::Tx::read};
    auto r = model::exec(tx,
                         "SELECT " MODEL_UTC("t") ", to_char(t AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM unnest(ARRAY["
                         "'2026-12-02 09:59:32+00', '2026-12-02 09:59:32.999999+00', "
                         "'2026-12-02 23:30:00.5-02', '1999-01-01 00:00:00.000001+00', "
                         "'12345-06-07 08:09:10.11+00', '0044-03-15 12:00:00.25+00 BC'"
                         "]::timestamptz[]) AS t");
    BOOST_REQUIRE(r.size() == 6u);
    for (const auto& row : r)
        BOOST_TEST(model::iso_utc(row[0]) == row[1].as<std::string>());
    BOOST_TEST(model::iso_utc(r[0][0]) == "2026-12-02T09:59:32");
    BOOST_TEST(model::iso_utc(r[2][0]) == "2026-12-03T01:30:00");
}

BOOST_AUTO_TEST_CASE(conninfo_quotes_values_and_sets_timeouts)
{
    core::Config c = core::config();
    c.set("db_password", std::string("it's a \\ pass"));
    c.set("db_name", std::string("my db"));
    const auto ci = model::conninfo(model::DbSettings::from(c), "-c search_path=x");
    BOOST_TEST(ci.find("password='it\\'s a \\\\ pass'") != std::string::npos);
    BOOST_TEST(ci.find("dbname='my db'") != std::string::npos);
    BOOST_TEST(ci.find("connect_timeout='") != std::string::npos);
    BOOST_TEST(ci.find("options='-c statement_timeout=" +
                       std::to_string(c.integer("db_statement_timeout_ms")) +
                       " -c datestyle=ISO -c search_path=x'") != std::string::npos);

    model::Tx tx{model::Tx::read};
    auto r = model::exec(tx, "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'");
    BOOST_TEST(r[0][0].as<std::int64_t>() == core::config().integer("db_statement_timeout_ms"));
}

BOOST_AUTO_TEST_CASE(sql_log_has_statements_but_not_values)
{
    core::Config c = core::config();
    c.set("log_sql", true);
    core::init_logging(c, "test");
    auto* cap = new Capture;
    log4cplus::SharedAppenderPtr app(cap);
    auto sql_logger = core::logger("sql");
    sql_logger.addAppender(app);
    try {
        model::Tx tx;
        BOOST_TEST(!model::User::get_by_email(tx, "secret-value@model-test.invalid"));
    } catch (...) {
        sql_logger.removeAppender(app);
        core::init_logging(core::config(), "test");
        throw;
    }
    sql_logger.removeAppender(app);
    core::init_logging(core::config(), "test");
    BOOST_REQUIRE(cap->lines.size() == 1u);
    const std::string& line = cap->lines[0];
    BOOST_TEST(line.find("FROM users WHERE lower(email) = lower($1)") != std::string::npos);
    BOOST_TEST(line.find("secret-value") == std::string::npos);
    BOOST_TEST(!core::log_sql());
}

BOOST_AUTO_TEST_CASE(truncate_all_empties_tables_and_restarts_ids)
{
    model::Tx tx;
    make_user("truncate@model-test.invalid").insert(tx);
    model::exec(tx, "INSERT INTO movies (title) VALUES ('t')");
    model::truncate_all(tx);
    BOOST_TEST(model::exec(tx, "SELECT count(*) FROM users")[0][0].as<int>() == 0);
    BOOST_TEST(model::exec(tx, "SELECT count(*) FROM movies")[0][0].as<int>() == 0);
    BOOST_TEST(model::exec(tx, "SELECT name FROM schema_migrations").size() >= 2u);  // kept
    auto id =
        model::exec(tx, "INSERT INTO movies (title) VALUES ('t') RETURNING id")[0][0].as<int>();
    BOOST_TEST(id == 1);
}

BOOST_AUTO_TEST_CASE(uuid_shape_and_like_escaping)
{
    BOOST_TEST(model::is_uuid("2770060c-ebea-495f-b93f-509196e4bc73"));
    BOOST_TEST(model::is_uuid("2770060C-EBEA-495F-B93F-509196E4BC73"));
    BOOST_TEST(!model::is_uuid("2770060c-ebea-495f-b93f-509196e4bc7"));
    BOOST_TEST(!model::is_uuid("2770060c-ebea-495f-b93f-509196e4bc733"));
    BOOST_TEST(!model::is_uuid("2770060cxebea-495f-b93f-509196e4bc73"));
    BOOST_TEST(!model::is_uuid("2770060c-ebea-495f-b93f-509196e4bcg3"));
    BOOST_TEST(!model::is_uuid("{770060c-ebea-495f-b93f-509196e4bc73}"));
    BOOST_TEST(!model::is_uuid(""));
    BOOST_TEST(model::like_contains("a%b_c\\d") == "%a\\%b\\_c\\\\d%");
    BOOST_TEST(model::like_contains("") == "%%");
}

BOOST_AUTO_TEST_SUITE_END()
