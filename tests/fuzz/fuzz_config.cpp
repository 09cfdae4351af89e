// fuzz_config.cpp: the settings file and its APP_* overrides (core::Config::parse, what load
// runs): anything wrong is a ConfigError, and an override never changes a key's type.
#include <fuzzer/FuzzedDataProvider.h>

#include <optional>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "tests/fuzz/fuzz.h"

namespace {

// Keys of each type in conf/server-config.json, so overrides often hit a key the file has.
const char* const kKeys[] = {"workers", "local_dev", "log_secret_keys", "listen", "ratio",
                             "db_port", "cors_origins", "production", "config", "nope"};

std::optional<core::Config> parse(const std::string& text, const std::vector<std::string>& env)
{
    try {
        return core::Config::parse(text, env, "fuzz.json");
    } catch (const core::ConfigError&) {
        return std::nullopt;
    }
}

// Every getter either answers or throws ConfigError.
void read_all(const core::Config& c)
{
    for (const auto& [key, value] : c.values()) {
        (void)value;
        try { c.str(key); } catch (const core::ConfigError&) {}
        try { c.integer(key); } catch (const core::ConfigError&) {}
        try { c.number(key); } catch (const core::ConfigError&) {}
        try { c.flag(key); } catch (const core::ConfigError&) {}
        try { c.list(key); } catch (const core::ConfigError&) {}
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FuzzedDataProvider in(data, size);
    std::vector<std::string> env;
    const auto count = in.ConsumeIntegralInRange(0, 4);
    for (int i = 0; i < count; ++i) {
        std::string key = in.ConsumeBool() ? in.PickValueInArray(kKeys) : in.ConsumeRandomLengthString(16);
        for (auto& ch : key)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        const char* const kPrefix[] = {"APP_", "APP_", "OTHER_", ""};
        env.push_back(in.PickValueInArray(kPrefix) + key + "=" + in.ConsumeRandomLengthString(32));
    }
    const std::string text = in.ConsumeRemainingBytesAsString();

    const auto file_only = parse(text, {});
    const auto with_env = parse(text, env);
    FUZZ_CHECK(file_only || !with_env, "overrides made a bad file good");
    if (!with_env)
        return 0;
    read_all(*with_env);
    // Overrides change values, never the set of keys or a key's type.
    FUZZ_CHECK(with_env->values().size() == file_only->values().size(), "overrides added keys");
    for (const auto& [key, value] : with_env->values()) {
        const auto it = file_only->values().find(key);
        FUZZ_CHECK(it != file_only->values().end() && it->second.index() == value.index(),
                   "an override changed a key's type");
    }
    return 0;
}
