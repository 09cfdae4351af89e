// test_pg.cpp: PostgreSQL failing over under a client configured with both servers (db_host
// "127.0.0.1,127.0.0.2"): a write refused by a read-only server, the primary stopped, the standby
// promoted. Every failed request is a 503, never a 500, no refused write is applied, and no
// committed one is lost.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "app/model/db.h"
#include "app/model/sql.h"
#include "tests/failover/failover.h"
#include "tests/support.h"

namespace {

using failover::servers;

// The servers for this file's cases, and a client config that lists both.
struct PgServers {
    PgServers() { servers("pg-up"); }
    ~PgServers()
    {
        model::db_reset();
        servers("pg-stop standby");
        servers("pg-stop primary");
    }
};

void configure(core::Config& c)
{
    c.set("db_host", std::string("127.0.0.1,127.0.0.2"));
    c.set("db_port", std::int64_t{failover::ports().pg});
    c.set("db_name", std::string("postgres"));
    c.set("db_user", std::string("postgres"));
    c.set("db_password", std::string());
    c.set("db_connect_timeout_s", std::int64_t{2});
}

int inserted = 0;  // rows whose write got a 200

int write_row()
{
    const int status = failover::status_of([] {
        model::Tx tx;
        model::exec(tx, "INSERT INTO failover_rows (n) VALUES ($1)", inserted + 1);
        tx.commit();
    });
    if (status == 200)
        ++inserted;
    return status;
}

long rows()
{
    model::Tx tx{model::Tx::read};
    return model::exec(tx, "SELECT count(*) FROM failover_rows")[0][0].as<long>();
}

std::string server_addr()
{
    model::Tx tx{model::Tx::read};
    return model::exec(tx, "SELECT host(inet_server_addr())")[0][0].as<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_failover)

BOOST_AUTO_TEST_CASE(writes_are_503_while_no_server_takes_them_then_go_to_the_new_primary)
{
    PgServers pg;
    failover::ConfigScope scope(configure);
    model::db_reset();
    {
        model::Tx tx;
        model::exec(tx, "CREATE TABLE failover_rows (id serial PRIMARY KEY, n int NOT NULL)");
        tx.commit();
    }
    BOOST_TEST(server_addr() == "127.0.0.1");  // the primary, though the standby answers too
    for (int i = 0; i < 5; ++i)
        BOOST_TEST_REQUIRE(write_row() == 200);

    // A primary that stops taking writes (as a demoted one would): 25006 is a 503, not applied.
    servers("pg-sql primary \"ALTER SYSTEM SET default_transaction_read_only = on\"");
    servers("pg-sql primary \"SELECT pg_reload_conf()\"");
    std::map<int, int> seen;
    BOOST_TEST(test::poll_until([&] { return ++seen[write_row()], seen[503] > 0; }, 10),
               failover::describe(seen));
    BOOST_TEST(seen.size() <= 2u, failover::describe(seen));  // 200s until the reload, then 503s
    // Reconnecting finds no server that takes writes: still 503.
    BOOST_TEST(write_row() == 503);
    servers("pg-sql primary \"ALTER SYSTEM RESET default_transaction_read_only\"");
    servers("pg-sql primary \"SELECT pg_reload_conf()\"");
    BOOST_TEST(test::poll_until([] { return write_row() == 200; }, 10));
    BOOST_TEST(rows() == inserted);

    // The failover: the primary stops (fast: its sessions get admin_shutdown), the standby is
    // promoted a moment later. Writes in between are 503s; then they succeed on the new primary.
    servers("pg-stop primary");
    seen.clear();
    for (int i = 0; i < 5; ++i)
        ++seen[write_row()];
    BOOST_TEST(seen[503] == 5, failover::describe(seen));
    servers("pg-promote-standby");
    BOOST_TEST(test::poll_until([&] { return ++seen[write_row()], seen[200] >= 5; }, 20),
               failover::describe(seen));
    BOOST_TEST(seen.size() == 2u, failover::describe(seen));  // 200 and 503 only, never a 500
    BOOST_TEST(server_addr() == "127.0.0.2");
    BOOST_TEST(rows() == inserted,
               "rows on the new primary " << rows() << ", committed " << inserted);
    BOOST_TEST_MESSAGE("pg failover: statuses " << failover::describe(seen) << ", " << inserted
                                                << " committed rows, all on the new primary");
}

BOOST_AUTO_TEST_SUITE_END()
