// test_api_reload_config.cpp: a reload checks the config as a start does. A server instance runs
// on a config file of its own; without a key the binary requires (as when a new release needs a
// key the deployment's copy lacks), the reload is refused with the key's name and the old
// workers serve on; with the key back, the next reload goes through.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/api/settings_schema.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::Instance;
using test::poll_until;

namespace {

// A key the schema requires that no APP_ variable of the test stack gives (those would fill it in).
std::string required_key_of_the_file_only()
{
    for (const auto& k : api::settings_schema().keys()) {
        std::string env = "APP_";
        for (char ch : k.name)
            env += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (k.required && !std::getenv(env.c_str()))
            return k.name;
    }
    return "";
}

std::string without(const std::string& json, const std::string& key)
{
    rapidjson::Document d;
    d.Parse(json.c_str());
    d.RemoveMember(key.c_str());
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    d.Accept(w);
    return sb.GetString();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_reload_config)

BOOST_AUTO_TEST_CASE(reload_into_a_config_without_a_required_key_is_refused_naming_it)
{
    const std::string key = required_key_of_the_file_only();
    BOOST_REQUIRE(!key.empty());
    const std::string good = test::read_text(test::env_or("APP_CONFIG", "conf/server-config.json"));
    BOOST_REQUIRE(good.find("\"" + key + "\"") != std::string::npos);
    const std::string file = test::stack_run_dir() + "/instance-config.json";
    std::ofstream(file) << good;
    Instance inst("reload_config", {{"APP_WORKERS", "2"}, {"APP_CONFIG", file}});
    const auto before = inst.stats();

    std::ofstream(file) << without(good, key);
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    const std::string refused = "--check failed (exit code 1: server: " + file + ": config key " +
                                key + " is missing (it has no default)); the old workers keep";
    BOOST_TEST(poll_until([&] { return inst.log().find(refused) != std::string::npos; }, 10),
               inst.log());
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(test::status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    const auto s = inst.stats();
    BOOST_TEST(s.num("reloads") == 0);
    BOOST_TEST(s.pids() == before.pids());
    BOOST_TEST(s.str("last_reload_error").find("config key " + key) != std::string::npos);

    std::ofstream(file) << good;
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    BOOST_TEST(poll_until(
        [&] {
            const auto t = inst.stats();
            return t.num("reloads") == 1 && t.pids(true).empty() && t.pids() != before.pids();
        },
        15));
    std::remove(file.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
