// config.cpp: loading the JSON settings file and applying APP_* environment overrides.
#include "app/core/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "app/core/errors.h"
#include "app/core/settings.h"

extern char** environ;

namespace core {
namespace {

const char* const kEnvPrefix = "APP_";
const char* const kSystemConfig = "/etc/restpie/server-config.json";

std::unique_ptr<const Config>& current()
{
    static std::unique_ptr<const Config> c;
    return c;
}
unsigned g_generation = 0;  // set_config calls

// A file's value must have its key's type: 4 is no string, "4" no integer.
Config::Value from_json(const Key& k, const rapidjson::Value& v, const std::string& file)
{
    const auto wrong = [&] {
        return ConfigError(file + ": config key " + k.name + " must be " + type_name(k.fallback));
    };
    switch (k.fallback.index()) {
    case 0:
        if (!v.IsBool())
            throw wrong();
        return v.GetBool();
    case 1:
        if (!v.IsInt64())
            throw wrong();
        return v.GetInt64();
    case 2:
        if (!v.IsString())
            throw wrong();
        return std::string(v.GetString(), v.GetStringLength());
    }
    if (!v.IsArray())
        throw wrong();
    std::vector<std::string> items;
    for (const auto& it : v.GetArray()) {
        if (!it.IsString())
            throw wrong();
        items.emplace_back(it.GetString(), it.GetStringLength());
    }
    return items;
}

// An override takes its key's type, so a typo in a number fails at start.
Config::Value from_env(const std::string& where, const Config::Value& old, const std::string& text)
{
    try {
        if (std::holds_alternative<bool>(old)) {
            if (text == "true" || text == "1" || text == "yes")
                return true;
            if (text == "false" || text == "0" || text == "no" || text.empty())
                return false;
            throw ConfigError(where + ": expected true or false, got '" + text + "'");
        }
        std::size_t used = 0;
        if (std::holds_alternative<std::int64_t>(old)) {
            auto v = std::stoll(text, &used);
            if (used != text.size())
                throw std::invalid_argument(text);
            return static_cast<std::int64_t>(v);
        }
    } catch (const std::logic_error&) {
        throw ConfigError(where + ": expected a number, got '" + text + "'");
    }
    if (std::holds_alternative<std::vector<std::string>>(old)) {
        std::vector<std::string> items;
        std::stringstream ss(text);
        for (std::string item; std::getline(ss, item, ',');)
            if (!item.empty())
                items.push_back(item);
        return items;
    }
    return text;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace

Config Config::load(const std::string& path, const SettingsSchema& schema)
{
    std::ifstream in(path);
    if (!in)
        throw ConfigError("cannot read config file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> environment;
    for (char** e = environ; e && *e; ++e)
        environment.emplace_back(*e);
    return parse(ss.str(), environment, path, schema);
}

Config Config::parse(const std::string& text, const std::vector<std::string>& environment,
                     const std::string& file, const SettingsSchema& schema)
{
    rapidjson::Document doc;
    // Iterative: a file nested a million levels deep is an error message, not a stack overflow.
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.c_str(),
                                                                                      text.size());
    if (doc.HasParseError())
        throw ConfigError(file + ": bad JSON at offset " + std::to_string(doc.GetErrorOffset()) +
                          ": " + rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject())
        throw ConfigError(file + ": must hold one JSON object");

    Config c;
    c.file_ = file;
    // An unknown key is a typo (or a key a later release dropped): report it, never ignore it.
    for (const auto& m : doc.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        const Key* k = schema.find(key);
        if (!k)
            throw ConfigError(file + ": unknown config key " + key);
        c.values_[key] = from_json(*k, m.value, file);
    }
    for (const std::string& entry : environment) {
        if (entry.rfind(kEnvPrefix, 0) != 0)
            continue;
        const auto eq = entry.find('=');
        const std::string key = lower(entry.substr(4, eq - 4));
        if (key == "config")
            continue;
        const std::string where = file + ": environment " + entry.substr(0, eq);
        const Key* k = schema.find(key);
        if (!k)
            throw ConfigError(where + ": no such config key");
        c.values_[key] =
            from_env(where, k->fallback, eq == std::string::npos ? "" : entry.substr(eq + 1));
    }
    schema.complete(c.values_, file);
    return c;
}

std::string Config::path_from(int argc, char** argv)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--config")
            return argv[i + 1];
    if (const char* p = std::getenv("APP_CONFIG"); p && *p)
        return p;
    if (access(kSystemConfig, F_OK) == 0)  // on a provisioned server: no flags needed
        return kSystemConfig;
    return "conf/server-config.json";
}

const Config::Value& Config::at(const std::string& key) const
{
    auto it = values_.find(key);
    if (it == values_.end())
        throw ConfigError("config key missing: " + key);
    return it->second;
}

template <typename T>
static const T& typed(const Config::Value& v, const std::string& key, const char* what)
{
    if (const T* p = std::get_if<T>(&v))
        return *p;
    throw ConfigError("config key " + key + " must be " + what);
}

const std::string& Config::str(const std::string& key) const
{
    return typed<std::string>(at(key), key, "a string");
}

std::int64_t Config::integer(const std::string& key) const
{
    return typed<std::int64_t>(at(key), key, "an integer");
}

bool Config::flag(const std::string& key) const
{
    return typed<bool>(at(key), key, "true or false");
}

const std::vector<std::string>& Config::list(const std::string& key) const
{
    return typed<std::vector<std::string>>(at(key), key, "a list of strings");
}

const Config& config()
{
    if (!current())
        throw ConfigError("config used before it was loaded");
    return *current();
}

void set_config(Config c)
{
    current() = std::make_unique<const Config>(std::move(c));
    ++g_generation;
}

unsigned config_generation()
{
    return g_generation;
}

}  // namespace core
