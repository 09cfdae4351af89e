// test_config.cpp: loading the settings file and APP_* environment overrides, against a small
// schema of one key of each type (test_settings.cpp checks the real one).
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/settings.h"

extern char** environ;

namespace {

const core::SettingsSchema& small_schema()
{
    static const core::SettingsSchema s = [] {
        core::SettingsSchema s;
        s.add(core::Key::integer("workers", 4, 1, 1024));
        s.add(core::Key::flag("local_dev", false));
        s.add(core::Key::required_text("db_host"));
        s.add(core::Key::list("cors_origins", {"*"}));
        return s;
    }();
    return s;
}

// Moves every APP_* variable aside for one test (the test command exports many), then restores.
struct CleanEnv {
    std::map<std::string, std::string> saved;
    // Per process: test runs of two checkouts or TEST_SLOTs never share it.
    std::string path = "/tmp/restpie-test-config-" + std::to_string(getpid()) + ".json";
    CleanEnv()
    {
        for (char** e = environ; *e; ++e) {
            std::string s(*e);
            if (s.rfind("APP_", 0) == 0)
                saved[s.substr(0, s.find('='))] = s.substr(s.find('=') + 1);
        }
        for (const auto& kv : saved)
            unsetenv(kv.first.c_str());
        std::ofstream(path) << R"({"workers": 4, "local_dev": false, "db_host": "db",
                                  "cors_origins": ["*"]})";
    }
    ~CleanEnv()
    {
        for (const char* k :
             {"APP_WORKERS", "APP_LOCAL_DEV", "APP_DB_HOST", "APP_CORS_ORIGINS", "APP_NO_SUCH_KEY"})
            unsetenv(k);
        for (const auto& kv : saved)
            setenv(kv.first.c_str(), kv.second.c_str(), 1);
        std::remove(path.c_str());
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(config, CleanEnv)

BOOST_AUTO_TEST_CASE(file_values_are_typed)
{
    auto c = core::Config::load(path, small_schema());
    BOOST_TEST(c.integer("workers") == 4);
    BOOST_TEST(!c.flag("local_dev"));
    BOOST_TEST(c.str("db_host") == "db");
    BOOST_TEST(c.list("cors_origins").at(0) == "*");
    BOOST_CHECK_THROW(c.str("workers"), core::ConfigError);
    BOOST_CHECK_THROW(c.integer("missing"), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(environment_overrides_each_type)
{
    setenv("APP_WORKERS", "8", 1);
    setenv("APP_LOCAL_DEV", "true", 1);
    setenv("APP_DB_HOST", "10.0.0.5", 1);
    setenv("APP_CORS_ORIGINS", "https://a.example,https://b.example", 1);
    auto c = core::Config::load(path, small_schema());
    BOOST_TEST(c.integer("workers") == 8);
    BOOST_TEST(c.flag("local_dev"));
    BOOST_TEST(c.str("db_host") == "10.0.0.5");
    BOOST_TEST(c.list("cors_origins").size() == 2u);
    BOOST_TEST(c.list("cors_origins")[1] == "https://b.example");
}

BOOST_AUTO_TEST_CASE(bad_overrides_fail_at_start)
{
    setenv("APP_WORKERS", "eight", 1);
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);
    unsetenv("APP_WORKERS");
    setenv("APP_LOCAL_DEV", "maybe", 1);
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);
    unsetenv("APP_LOCAL_DEV");
    setenv("APP_NO_SUCH_KEY", "1", 1);  // a typo must not pass silently
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);
}

BOOST_AUTO_TEST_CASE(bad_files_fail)
{
    BOOST_CHECK_THROW(core::Config::load("/nonexistent/config.json", small_schema()),
                      core::ConfigError);
    std::ofstream(path) << "{\"a\": ";
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);
    std::ofstream(path) << "[1]";
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);
    // A recursive parse overflowed the stack on a deep file (issue 8); now it is an error.
    const std::string deep = "{\"a\":" + std::string(500000, '[') + std::string(500000, ']') + "}";
    BOOST_CHECK_THROW(core::Config::parse(deep, {}, "deep.json", small_schema()),
                      core::ConfigError);
}

BOOST_AUTO_TEST_CASE(an_override_may_give_a_key_the_file_lacks)
{
    std::ofstream(path) << R"({"workers": 4})";
    BOOST_CHECK_THROW(core::Config::load(path, small_schema()), core::ConfigError);  // db_host
    setenv("APP_DB_HOST", "10.0.0.5", 1);
    auto c = core::Config::load(path, small_schema());
    BOOST_TEST(c.str("db_host") == "10.0.0.5");
    BOOST_TEST(!c.flag("local_dev"));  // the defaults fill in the rest
    BOOST_TEST(c.list("cors_origins").at(0) == "*");
}

BOOST_AUTO_TEST_CASE(config_path_is_the_flag_then_app_config_then_the_system_file)
{
    char prog[] = "server", flag[] = "--config", file[] = "/x/flag.json";
    char* with_flag[] = {prog, flag, file};
    char* without[] = {prog};
    setenv("APP_CONFIG", "/x/env.json", 1);
    BOOST_TEST(core::Config::path_from(3, with_flag) == "/x/flag.json");
    BOOST_TEST(core::Config::path_from(1, without) == "/x/env.json");
    unsetenv("APP_CONFIG");
    const bool provisioned = access("/etc/restpie/server-config.json", F_OK) == 0;
    BOOST_TEST(core::Config::path_from(1, without) ==
               (provisioned ? "/etc/restpie/server-config.json" : "conf/server-config.json"));
}

BOOST_AUTO_TEST_SUITE_END()
