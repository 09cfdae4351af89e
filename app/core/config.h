// config.h: the process-wide settings, one flat JSON object (conf/server-config.json) with every
// key overridable by an environment variable APP_<KEY in upper case>, e.g. APP_WORKERS=8. Loaded
// against a SettingsSchema (settings.h): the keys every module declares, with their types and
// defaults.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace core {

class SettingsSchema;

class Config {
public:
    using Value = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;

    // Reads the file, then applies APP_* overrides, converting each to its key's type (lists:
    // comma-separated), then fills in the defaults. Throws ConfigError naming the file and the key
    // on a missing file, bad JSON, a key `schema` does not know, a value of another type or out of
    // range, or a required key missing.
    static Config load(const std::string& path, const SettingsSchema& schema);
    // What load does once it has the file's text: `environment` holds "NAME=value" entries as in
    // environ (those without the APP_ prefix are skipped); `file` names the source in errors.
    // A seam for the config fuzzer and the tests, which have neither file nor environment.
    static Config parse(const std::string& text, const std::vector<std::string>& environment,
                        const std::string& file, const SettingsSchema& schema);
    // The path to load: --config on the command line, else $APP_CONFIG, else
    // /etc/restpie/server-config.json when it exists (a provisioned server: `server --stats` and
    // `admin` need no flags there), else conf/server-config.json.
    static std::string path_from(int argc, char** argv);

    // Typed getters, for the modules' S::from (settings.h), not for per-request code. They throw
    // ConfigError naming the key when it is missing or of another type.
    const std::string& str(const std::string& key) const;
    std::int64_t integer(const std::string& key) const;
    bool flag(const std::string& key) const;
    const std::vector<std::string>& list(const std::string& key) const;
    bool has(const std::string& key) const { return values_.count(key) > 0; }

    void set(const std::string& key, Value v) { values_[key] = std::move(v); }  // tests, overrides
    const std::map<std::string, Value>& values() const { return values_; }
    const std::string& file() const { return file_; }

private:
    const Value& at(const std::string& key) const;
    std::map<std::string, Value> values_;
    std::string file_;
};

// The config of this process, set once by main before anything else runs (tests set others).
const Config& config();
void set_config(Config c);
// Counts set_config calls, so that settings<S>() (settings.h) knows when to read the config again.
unsigned config_generation();

}  // namespace core
