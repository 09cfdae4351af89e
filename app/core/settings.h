// settings.h: the config's schema and the typed settings read from it. Each module declares its
// keys (name, type, default or required, range) in S::keys(), beside its settings struct S, and
// reads them in S::from(config). Config::load checks a file against every module's keys, and a
// main then builds every module's settings (SettingsSchema::build_all) before it forks anything: a
// missing, mistyped, out-of-range or unknown key stops the program, and a reload's --check,
// naming the key and the file, never a request at 3 a.m.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/core/config.h"

namespace core {

// One config key. The type of its default is the key's type; the default, written once here, is
// what a config without the key gets.
struct Key {
    std::string name;
    Config::Value fallback;         // the default (a required key's is only its type)
    bool required = false;          // no sensible default: every config must give it
    std::int64_t min = 0, max = 0;  // integers only: the allowed range
    std::string unless;             // a required key: not required when this list key is given

    static Key flag(std::string name, bool fallback);
    static Key integer(std::string name, std::int64_t fallback, std::int64_t min, std::int64_t max);
    static Key text(std::string name, std::string fallback);
    static Key list(std::string name, std::vector<std::string> fallback);
    // unless: the name of a list key that, when given and not empty, stands in for this one
    // (redis_sentinels for redis_host); the key's default is then "".
    static Key required_text(std::string name, std::string unless = "");
};

// "true or false", "an integer", "a string" or "a list of strings": the type of v, for messages.
const char* type_name(const Config::Value& v);

// The settings of module S, made by S::from(config()) on first use after each set_config. A main
// builds them all at start (SettingsSchema::build_all); later calls, per request too, return the
// struct. One process, one thread: no locking.
template <typename S>
const S& settings()
{
    static std::optional<S> made;
    static unsigned made_for = 0;
    if (!made || made_for != config_generation()) {
        made = S::from(config());
        made_for = config_generation();
    }
    return *made;
}

class SettingsSchema {
public:
    // Adds module S: its keys (static std::vector<Key> keys()) and its settings
    // (static S from(const Config&), which throws ConfigError naming the key on a bad value).
    template <typename S>
    SettingsSchema& add()
    {
        for (Key& k : S::keys())
            add(std::move(k));
        builders_.push_back([] { settings<S>(); });
        return *this;
    }
    void add(Key k);  // std::logic_error when a key is declared twice
    const Key* find(const std::string& name) const;
    const std::vector<Key>& keys() const { return keys_; }

    // Config::parse's last step, on the file's values with the overrides applied (each of its
    // key's type already): checks the ranges and fills in the defaults. Throws ConfigError
    // "<file>: config key <name> ..." on a value out of range or a required key missing.
    void complete(std::map<std::string, Config::Value>& values, const std::string& file) const;
    // Builds every module's settings from config(); a ConfigError gets the file's name in front.
    void build_all() const;

private:
    std::vector<Key> keys_;
    std::vector<void (*)()> builders_;
};

// The mode of the process, which several modules read.
struct ModeSettings {
    bool local_dev;   // local development: console log, dev-only routes, localhost CORS
    bool production;  // shown in /api/list
    bool test_mode;   // a test stack: as local development, but the log goes to log_file
    static std::vector<Key> keys();
    static ModeSettings from(const Config& c);
};

}  // namespace core
