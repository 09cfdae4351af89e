// fuzz_config.cpp: the settings file and its APP_* overrides (core::Config::parse, what load
// runs) against the real schema (api::settings_schema): anything wrong is a ConfigError; a config
// that loads has every key of the schema, of its type and in its range, and either builds every
// module's settings or is refused with a ConfigError.
#include <fuzzer/FuzzedDataProvider.h>

#include <optional>

#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/settings.h"
#include "tests/fuzz/fuzz.h"

namespace {

// Keys of each type, so overrides often hit a key the schema has.
const char* const kKeys[] = {"workers", "local_dev",    "log_secret_keys", "listen", "db_port",
                             "db_host", "cors_origins", "log_level",       "config", "nope"};

std::optional<core::Config> parse(const std::string& text, const std::vector<std::string>& env)
{
    try {
        return core::Config::parse(text, env, "fuzz.json", api::settings_schema());
    } catch (const core::ConfigError&) {
        return std::nullopt;
    }
}

// Every getter either answers or throws ConfigError.
void read_all(const core::Config& c)
{
    for (const auto& [key, value] : c.values()) {
        (void)value;
        try {
            c.str(key);
        } catch (const core::ConfigError&) {
        }
        try {
            c.integer(key);
        } catch (const core::ConfigError&) {
        }
        try {
            c.flag(key);
        } catch (const core::ConfigError&) {
        }
        try {
            c.list(key);
        } catch (const core::ConfigError&) {
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::setup();
    FuzzedDataProvider in(data, size);
    std::vector<std::string> env;
    const auto count = in.ConsumeIntegralInRange(0, 4);
    for (int i = 0; i < count; ++i) {
        std::string key =
            in.ConsumeBool() ? in.PickValueInArray(kKeys) : in.ConsumeRandomLengthString(16);
        for (auto& ch : key)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        const char* const kPrefix[] = {"APP_", "APP_", "OTHER_", ""};
        env.push_back(in.PickValueInArray(kPrefix) + key + "=" + in.ConsumeRandomLengthString(32));
    }
    const std::string text = in.ConsumeRemainingBytesAsString();

    const auto c = parse(text, env);
    if (!c)
        return 0;
    read_all(*c);
    const auto& schema = api::settings_schema();
    FUZZ_CHECK(c->values().size() == schema.keys().size(), "a key the schema does not know");
    for (const auto& k : schema.keys()) {
        const auto it = c->values().find(k.name);
        FUZZ_CHECK_SHOW(it != c->values().end() && it->second.index() == k.fallback.index(),
                        "a key missing or of another type", k.name);
        if (const auto* n = std::get_if<std::int64_t>(&it->second))
            FUZZ_CHECK_SHOW(k.min <= *n && *n <= k.max, "an integer out of range", k.name);
    }
    // What a main does next: build every module's settings; a bad value is a ConfigError.
    const core::Config saved = core::config();
    core::set_config(*c);
    try {
        schema.build_all();
    } catch (const core::ConfigError&) {
    }
    core::set_config(saved);
    return 0;
}
