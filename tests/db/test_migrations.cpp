// test_migrations.cpp: model::Migrator against a real PostgreSQL, in a scratch schema (so no
// CREATEDB right is needed) with migration files written to a temp folder.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "app/core/config.h"
#include "app/model/sql.h"  // tests of this layer use libpqxx directly
#include "app/model/migrations.h"
#include "tests/support.h"

namespace fs = std::filesystem;

namespace {

using Names = std::vector<std::string>;

struct Scratch {
    std::string schema = "migtest_" + std::to_string(getpid());
    fs::path dir = fs::temp_directory_path() / ("restpie_migtest_" + std::to_string(getpid()));
    std::unique_ptr<model::Connection> conn;  // search_path = the scratch schema only

    Scratch()
    {
        drop();
        fs::create_directories(dir);
        pqxx::work tx{model::db()};
        tx.exec("CREATE SCHEMA " + schema);
        tx.commit();
        conn = open();
    }
    ~Scratch()
    {
        conn.reset();
        try {
            drop();
        } catch (const std::exception& e) {
            BOOST_TEST_MESSAGE("cleanup failed: " << e.what());
        }
    }
    void drop()
    {
        fs::remove_all(dir);
        pqxx::work tx{model::db()};
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }
    std::unique_ptr<model::Connection> open() const
    {
        return model::connect(
            model::conninfo(core::settings<model::DbSettings>(), "-c search_path=" + schema));
    }
    void write(const std::string& name, const std::string& sql) const
    {
        std::ofstream(dir / name) << sql;
    }
    model::Migrator migrator() { return model::Migrator(*conn, dir.string()); }
    bool has_table(const std::string& table)
    {
        pqxx::nontransaction tx{model::db()};
        return tx.exec_params("SELECT to_regclass($1) IS NOT NULL", schema + "." + table)[0][0]
            .as<bool>();
    }
    Names recorded()
    {
        pqxx::nontransaction tx{model::db()};
        Names out;
        auto res = tx.exec("SELECT name FROM " + schema + ".schema_migrations ORDER BY name");
        for (const auto& r : res)
            out.push_back(r[0].as<std::string>());
        return out;
    }
    // Sessions waiting for the migration lock now: pg_locks splits a bigint advisory key into
    // classid (high 32 bits) and objid (low 32 bits), with objsubid 1.
    int waiting_for_lock()
    {
        pqxx::nontransaction tx{model::db()};
        return tx
            .exec_params(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND NOT granted AND objsubid = 1 "
                "AND (classid::bigint << 32 | objid::bigint) = $1",
                model::Migrator::kLockKey)[0][0]
            .as<int>();
    }
    void write_ab()
    {
        // 002 references 001's table, so applying them out of order fails.
        write("002_b.sql", "CREATE TABLE b (x int REFERENCES a (x));");
        write("002_b.down.sql", "DROP TABLE b;");
        write("001_a.sql", "CREATE TABLE a (x int PRIMARY KEY);\nINSERT INTO a VALUES (1);");
        write("001_a.down.sql", "DROP TABLE a;");
        write("README.txt", "not a migration");
    }
};

// Holds the migration lock from a connection of its own, like another migrate run would.
struct LockHolder {
    std::unique_ptr<model::Connection> conn =
        model::connect(model::conninfo(core::settings<model::DbSettings>()));
    void lock() { run("SELECT pg_advisory_lock($1)"); }
    void unlock() { run("SELECT pg_advisory_unlock($1)"); }
    void run(const char* sql)
    {
        pqxx::nontransaction tx{*conn};
        tx.exec_params(sql, model::Migrator::kLockKey);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(migrations, Scratch)

BOOST_AUTO_TEST_CASE(up_applies_files_in_name_order_once)
{
    write_ab();
    auto m = migrator();
    BOOST_TEST(m.files() == (Names{"001_a.sql", "002_b.sql"}), boost::test_tools::per_element());
    BOOST_TEST(m.up() == (Names{"001_a.sql", "002_b.sql"}), boost::test_tools::per_element());
    BOOST_TEST(has_table("a"));
    BOOST_TEST(has_table("b"));
    BOOST_TEST(recorded() == (Names{"001_a.sql", "002_b.sql"}), boost::test_tools::per_element());
    BOOST_TEST(m.up().empty());
    std::ostringstream out;
    model::run_migrate(*conn, dir.string(), "up", out);
    BOOST_TEST(out.str() == "nothing to apply: 2 migration(s), all applied\n");
}

BOOST_AUTO_TEST_CASE(status_lists_applied_and_pending)
{
    write("001_a.sql", "CREATE TABLE a (x int);");
    auto m = migrator();
    BOOST_TEST(m.status().size() == 1u);
    BOOST_TEST(!m.status()[0].applied);
    BOOST_TEST(!has_table("schema_migrations"));  // status writes nothing
    m.up();
    write("002_b.sql", "CREATE TABLE b (x int);");

    const auto s = m.status();
    BOOST_REQUIRE(s.size() == 2u);
    BOOST_TEST(s[0].name == "001_a.sql");
    BOOST_TEST(s[0].applied);
    BOOST_TEST(s[0].applied_at.size() == 19u);  // 2026-11-26T20:15:03
    BOOST_TEST(s[1].name == "002_b.sql");
    BOOST_TEST(!s[1].applied);

    std::ostringstream out;
    model::run_migrate(*conn, dir.string(), "status", out);
    BOOST_TEST(out.str().find("applied " + s[0].applied_at + "Z") != std::string::npos);
    BOOST_TEST(out.str().find("pending") != std::string::npos);

    fs::remove(dir / "001_a.sql");
    const auto s2 = m.status();
    BOOST_REQUIRE(s2.size() == 2u);
    BOOST_TEST(s2[0].file_missing);
}

BOOST_AUTO_TEST_CASE(down_rolls_back_the_last_one)
{
    write_ab();
    auto m = migrator();
    m.up();
    BOOST_TEST(m.down().value_or("") == "002_b.sql");
    BOOST_TEST(!has_table("b"));
    BOOST_TEST(has_table("a"));
    BOOST_TEST(recorded() == Names{"001_a.sql"}, boost::test_tools::per_element());
    BOOST_TEST(m.down().value_or("") == "001_a.sql");
    BOOST_TEST(!has_table("a"));
    BOOST_TEST(!m.down());
    BOOST_TEST(m.up().size() == 2u);  // and back up again
}

BOOST_AUTO_TEST_CASE(down_without_a_down_file_fails_and_changes_nothing)
{
    write_ab();
    auto m = migrator();
    m.up();
    fs::remove(dir / "002_b.down.sql");
    BOOST_CHECK_THROW(m.down(), std::runtime_error);
    BOOST_TEST(has_table("b"));
    BOOST_TEST(recorded().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_failing_migration_leaves_nothing_of_itself)
{
    write("001_a.sql", "CREATE TABLE a (x int);");
    write("002_bad.sql", "CREATE TABLE c (x int);\nINSERT INTO c VALUES (1);\nSELEC oops;");
    write("003_later.sql", "CREATE TABLE d (x int);");
    auto m = migrator();
    BOOST_CHECK_EXCEPTION(m.up(), std::runtime_error, [](const std::runtime_error& e) {
        return std::string(e.what()).find("002_bad.sql") != std::string::npos;
    });
    BOOST_TEST(has_table("a"));
    BOOST_TEST(!has_table("c"));
    BOOST_TEST(!has_table("d"));  // the run stops at the failure
    BOOST_TEST(recorded() == Names{"001_a.sql"}, boost::test_tools::per_element());

    write("002_bad.sql", "CREATE TABLE c (x int);");
    BOOST_TEST(m.up() == (Names{"002_bad.sql", "003_later.sql"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_run_waits_for_the_lock)
{
    write_ab();
    LockHolder other;
    other.lock();
    auto runner = std::async(std::launch::async, [this] {
        auto c = open();
        return model::Migrator(*c, dir.string()).up();
    });
    // It waits on the lock itself (not merely slowly): PostgreSQL shows it waiting.
    BOOST_REQUIRE(test::poll_until([&] { return waiting_for_lock() == 1; }, 10));
    BOOST_TEST((runner.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout));
    BOOST_TEST(!has_table("a"));
    other.unlock();
    BOOST_REQUIRE((runner.wait_for(std::chrono::seconds(20)) == std::future_status::ready));
    BOOST_TEST(runner.get().size() == 2u);
    BOOST_TEST(has_table("b"));
}

BOOST_AUTO_TEST_CASE(two_concurrent_runs_apply_each_file_once)
{
    write_ab();
    write("003_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE slow (x int);");
    LockHolder gate;
    gate.lock();  // both runs start waiting, then race for the lock when it is released
    auto run = [this] {
        auto c = open();
        return model::Migrator(*c, dir.string()).up();
    };
    auto r1 = std::async(std::launch::async, run);
    auto r2 = std::async(std::launch::async, run);
    BOOST_REQUIRE(test::poll_until([&] { return waiting_for_lock() == 2; }, 10));  // both wait
    gate.unlock();
    const auto n1 = r1.get().size();  // rethrows if a run failed (e.g. a duplicate record)
    const auto n2 = r2.get().size();
    BOOST_TEST(n1 + n2 == 3u);
    BOOST_TEST((n1 == 0u || n2 == 0u));
    BOOST_TEST(recorded().size() == 3u);
}

BOOST_AUTO_TEST_CASE(the_real_migrations_apply_and_roll_back)
{
    // The tree's own migrations, whatever a fork adds to them: all apply in name order and all
    // roll back in reverse; the framework's users table behaves as the app needs.
    model::Migrator m(*conn, core::config().str("migrations_dir"));
    const Names all = m.files();
    BOOST_REQUIRE(!all.empty());
    BOOST_TEST(all.front() == "001_users.sql");
    BOOST_TEST(m.up() == all, boost::test_tools::per_element());
    {
        pqxx::work tx{*conn};
        auto uid = tx.exec(
            "INSERT INTO users (email, password) VALUES ('a@b.c', 'x') "
            "RETURNING id::text, role::text, tags")[0];
        BOOST_TEST(model::is_uuid(uid[0].as<std::string>()));
        BOOST_TEST(uid[1].as<std::string>() == "readonly");
        BOOST_TEST(uid[2].as<std::string>() == "{}");
        BOOST_CHECK_THROW(tx.exec("INSERT INTO users (email, password) VALUES ('A@B.C', 'y')"),
                          pqxx::unique_violation);
    }
    for (auto it = all.rbegin(); it != all.rend(); ++it)
        BOOST_TEST(m.down().value_or("") == *it);
    BOOST_TEST(!m.down().has_value());  // nothing left to roll back
    BOOST_TEST(!has_table("users"));
    pqxx::nontransaction tx{model::db()};
    BOOST_TEST(tx.exec_params("SELECT to_regtype($1) IS NULL", schema + ".role")[0][0].as<bool>());
}

BOOST_AUTO_TEST_CASE(unknown_command_and_missing_dir_are_errors)
{
    std::ostringstream out;
    BOOST_CHECK_THROW(model::run_migrate(*conn, dir.string(), "sideways", out),
                      std::invalid_argument);
    model::Migrator m(*conn, (dir / "nope").string());
    BOOST_CHECK_THROW(m.files(), std::runtime_error);
    BOOST_CHECK_THROW(m.up(), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
