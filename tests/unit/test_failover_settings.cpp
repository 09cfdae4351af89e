// test_failover_settings.cpp: the settings for several servers (issue 13): a db_host list and its
// conninfo, Redis Sentinels; no server is needed (tests/failover runs real ones).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/model/db.h"
#include "app/red/red_settings.h"

namespace {

// The config of every required key, with `key` set to `value` (JSON text).
core::Config config_with(const std::string& key, const std::string& value)
{
    std::string json = "{";
    for (const auto& k : api::settings_schema().keys())
        if (k.required && k.name != key)
            json += "\"" + k.name + "\": \"x\", ";
    json += "\"" + key + "\": " + value + "}";
    return core::Config::parse(json, {}, "test.json", api::settings_schema());
}

std::string conninfo_for(const std::string& hosts)
{
    return model::conninfo(model::DbSettings::from(config_with("db_host", hosts)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(failover_settings)

BOOST_AUTO_TEST_CASE(several_db_hosts_connect_to_the_one_that_takes_writes)
{
    const auto several = conninfo_for("\"10.77.0.11, 10.77.0.12,10.77.0.13\"");
    BOOST_TEST(several.find("host='10.77.0.11,10.77.0.12,10.77.0.13'") != std::string::npos,
               several);
    BOOST_TEST(several.find("target_session_attrs=read-write") != std::string::npos, several);
    const auto one = conninfo_for("\"10.77.0.11\"");
    BOOST_TEST(one.find("target_session_attrs") == std::string::npos, one);
    BOOST_CHECK_EXCEPTION(conninfo_for("\"10.77.0.11,,10.77.0.13\""), core::ConfigError,
                          [](const core::ConfigError& e) {
                              return std::string(e.what()).find("db_host") != std::string::npos;
                          });
}

// db_dead_host_s 5: probes from 2 s of silence on, one a second, 3 of them unanswered; 5 s for
// data not acknowledged.
BOOST_AUTO_TEST_CASE(a_silent_db_host_is_given_up_after_db_dead_host_s)
{
    const auto ci = conninfo_for("\"10.77.0.11\"");
    for (const char* part : {" keepalives=1 ", " keepalives_idle=2 ", " keepalives_interval=1 ",
                             " keepalives_count=3 ", " tcp_user_timeout=5000 "})
        BOOST_TEST(ci.find(part) != std::string::npos, part << " in " << ci);
}

BOOST_AUTO_TEST_CASE(sentinels_are_host_and_port)
{
    const auto s = red::RedisSettings::from(
        config_with("redis_sentinels", R"(["10.77.0.21:26379", "::1:26380"])"));
    BOOST_TEST(s.sentinels.size() == 2u);
    BOOST_TEST(s.sentinels[0].first == "10.77.0.21");
    BOOST_TEST(s.sentinels[0].second == 26379);
    BOOST_TEST(s.sentinels[1].first == "::1");
    BOOST_TEST(s.master_name == "restpie");
    for (const char* bad :
         {R"(["10.77.0.21"])", R"(["10.77.0.21:0"])", R"([":26379"])", R"(["10.77.0.21:263x"])"})
        BOOST_CHECK_EXCEPTION(red::RedisSettings::from(config_with("redis_sentinels", bad)),
                              core::ConfigError, [](const core::ConfigError& e) {
                                  return std::string(e.what()).find("redis_sentinels") !=
                                         std::string::npos;
                              });
}

BOOST_AUTO_TEST_SUITE_END()
