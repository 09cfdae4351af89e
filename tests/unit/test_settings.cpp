// test_settings.cpp: the config checked against every module's keys (api::settings_schema), by
// iterating over the schema, so a key added later is covered without a change here; and the
// server binary refusing to start on a bad config.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/settings.h"
#include "tests/support.h"

namespace {

const core::SettingsSchema& schema()
{
    return api::settings_schema();
}

// A config file's text: each key with its JSON text.
std::string json_of(const std::map<std::string, std::string>& keys)
{
    std::string out = "{";
    for (const auto& [key, value] : keys)
        out += (out.size() > 1 ? ", \"" : "\"") + key + "\": " + value;
    return out + "}";
}

// Every required key, with a string value.
std::map<std::string, std::string> required_keys()
{
    std::map<std::string, std::string> keys;
    for (const auto& k : schema().keys())
        if (k.required)
            keys[k.name] = "\"x\"";
    return keys;
}

// The message parsing `keys` fails with; "" when it parses.
std::string refusal(const std::map<std::string, std::string>& keys,
                    const std::vector<std::string>& environment = {})
{
    try {
        core::Config::parse(json_of(keys), environment, "test.json", schema());
        return "";
    } catch (const core::ConfigError& e) {
        return e.what();
    }
}

bool names(const std::string& message, const std::string& key)
{
    return message.find("test.json") != std::string::npos && message.find(key) != std::string::npos;
}

// A JSON value of a type other than the key's.
std::string wrong_type(const core::Key& k)
{
    switch (k.fallback.index()) {
    case 0: return "1";         // a flag
    case 1: return "\"12\"";    // an integer
    case 2: return "12";        // a string
    default: return "\"a,b\"";  // a list
    }
}

// Puts the process config back after a case that sets its own.
struct RestoreConfig {
    const core::Config saved = core::config();
    ~RestoreConfig() { core::set_config(saved); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(settings)

BOOST_AUTO_TEST_CASE(a_config_of_the_required_keys_only_starts_with_the_defaults)
{
    BOOST_TEST_REQUIRE(!required_keys().empty());
    const auto c = core::Config::parse(json_of(required_keys()), {}, "test.json", schema());
    BOOST_TEST(c.values().size() == schema().keys().size());
    for (const auto& k : schema().keys())
        if (!k.required)
            BOOST_TEST((c.values().at(k.name) == k.fallback), k.name);
    RestoreConfig restore;
    core::set_config(c);
    BOOST_CHECK_NO_THROW(schema().build_all());  // every module's settings, from the defaults
}

BOOST_AUTO_TEST_CASE(each_required_key_missing_is_refused_by_name)
{
    for (const auto& k : schema().keys()) {
        if (!k.required)
            continue;
        auto keys = required_keys();
        keys.erase(k.name);
        const auto why = refusal(keys);
        BOOST_TEST(names(why, k.name), k.name << ": " << why);
        BOOST_TEST(why.find("missing") != std::string::npos, why);
        // An APP_ variable may give it instead (a secret kept out of the file, say).
        BOOST_TEST(refusal(keys, {"APP_" + k.name + "=x"}).empty(), k.name);
    }
}

BOOST_AUTO_TEST_CASE(each_key_of_another_type_is_refused_by_name)
{
    for (const auto& k : schema().keys()) {
        auto keys = required_keys();
        keys[k.name] = wrong_type(k);
        const auto why = refusal(keys);
        BOOST_TEST(names(why, k.name), k.name << ": " << why);
        const std::string must = std::string("must be ") + core::type_name(k.fallback);
        BOOST_TEST(why.find(must) != std::string::npos, why);
    }
}

BOOST_AUTO_TEST_CASE(each_integer_out_of_its_range_is_refused_by_name)
{
    int integers = 0;
    for (const auto& k : schema().keys()) {
        if (k.fallback.index() != 1)
            continue;
        ++integers;
        BOOST_TEST(k.min <= std::get<std::int64_t>(k.fallback));  // the default is in range
        BOOST_TEST(std::get<std::int64_t>(k.fallback) <= k.max, k.name);
        std::vector<std::int64_t> outside;
        if (k.min > INT64_MIN)
            outside.push_back(k.min - 1);
        if (k.max < INT64_MAX)
            outside.push_back(k.max + 1);
        for (const auto bad : outside) {
            auto keys = required_keys();
            keys[k.name] = std::to_string(bad);
            const auto why = refusal(keys);
            BOOST_TEST(names(why, k.name), k.name << ": " << why);
            BOOST_TEST(why.find("must be in") != std::string::npos, why);
            // The same through the environment.
            const auto env =
                refusal(required_keys(), {"APP_" + k.name + "=" + std::to_string(bad)});
            BOOST_TEST(names(env, k.name), k.name << ": " << env);
        }
    }
    BOOST_TEST(integers > 10);
    auto keys = required_keys();
    keys["workers"] = "-1";
    BOOST_TEST(refusal(keys) == "test.json: config key workers must be in 1..1024, got -1");
    keys.erase("workers");
    keys["db_port"] = "65536";
    BOOST_TEST(refusal(keys) == "test.json: config key db_port must be in 1..65535, got 65536");
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_refused_by_name)
{
    auto keys = required_keys();
    keys["wokers"] = "4";  // a typo
    BOOST_TEST(refusal(keys) == "test.json: unknown config key wokers");
    BOOST_TEST(refusal(required_keys(), {"APP_WOKERS=4"}) ==
               "test.json: environment APP_WOKERS: no such config key");
}

BOOST_AUTO_TEST_CASE(bad_values_of_the_right_type_stop_the_start_by_name)
{
    RestoreConfig restore;
    for (const auto& [key, value] :
         std::map<std::string, std::string>{{"log_level", "\"LOUD\""},
                                            {"metrics_listen", "\"10.1.2.3:9117\""},
                                            {"cron_stats_listen", "\"10.1.2.3:9000\""},
                                            {"fcgi_web_server_addrs", "[\"web1\"]"},
                                            {"redis_sentinels", "[\"10.1.2.3\"]"}}) {
        auto keys = required_keys();
        keys[key] = value;
        core::set_config(core::Config::parse(json_of(keys), {}, "test.json", schema()));
        try {
            schema().build_all();
            BOOST_ERROR(key << " " << value << " passed");
        } catch (const core::ConfigError& e) {
            BOOST_TEST(names(e.what(), key), e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(redis_host_is_required_unless_sentinels_are_listed)
{
    auto keys = required_keys();
    keys.erase("redis_host");
    BOOST_TEST(refusal(keys) ==
               "test.json: config key redis_host is missing (it has no default; "
               "or give redis_sentinels)");
    keys["redis_sentinels"] = "[]";
    BOOST_TEST(names(refusal(keys), "redis_host"));
    keys["redis_sentinels"] = "[\"10.77.0.21:26379\", \"10.77.0.22:26379\"]";
    BOOST_TEST(refusal(keys).empty());
}

BOOST_AUTO_TEST_CASE(the_committed_template_names_every_key)
{
    const std::string text = test::read_text("conf/server-config.json");
    const auto c = core::Config::parse(text, {}, "conf/server-config.json", schema());
    for (const auto& k : schema().keys())
        BOOST_TEST(text.find("\"" + k.name + "\":") != std::string::npos, k.name);
    BOOST_TEST(c.str("db_password").empty());  // no secrets in the repository
}

BOOST_AUTO_TEST_CASE(the_server_refuses_to_start_naming_the_missing_key_and_the_file)
{
    const core::Key* required = nullptr;
    for (const auto& k : schema().keys())
        if (k.required && !required)
            required = &k;
    BOOST_TEST_REQUIRE(required);
    const std::string file = "/tmp/restpie-test-settings-" + std::to_string(getpid()) + ".json";
    auto keys = required_keys();
    keys.erase(required->name);
    std::ofstream(file) << json_of(keys);
    // A clean environment: the test stack's APP_* variables would fill the key in.
    const std::string server = "env -i /usr/bin/timeout 10 " SERVER_BINARY " --config " + file;
    for (const char* flag : {" --check", ""}) {
        const auto out = test::command_output(server + flag + " 2>&1; echo exit=$?");
        BOOST_TEST(out == "server: " + file + ": config key " + required->name +
                              " is missing (it has no default)\nexit=1\n");
    }
    std::ofstream(file) << json_of(required_keys());
    const auto ok = test::command_output(server + " --check 2>&1; echo exit=$?");
    BOOST_TEST(ok.find("server: ok") != std::string::npos, ok);
    BOOST_TEST(ok.find("exit=0") != std::string::npos, ok);
    std::remove(file.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
