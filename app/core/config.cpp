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

Config::Value from_json(const std::string& key, const rapidjson::Value& v)
{
    if (v.IsBool())
        return v.GetBool();
    if (v.IsInt64())
        return v.GetInt64();
    if (v.IsNumber())
        return v.GetDouble();
    if (v.IsString())
        return std::string(v.GetString(), v.GetStringLength());
    if (v.IsArray()) {
        std::vector<std::string> items;
        for (const auto& it : v.GetArray()) {
            if (!it.IsString())
                throw ConfigError("config key " + key + ": lists hold strings only");
            items.emplace_back(it.GetString(), it.GetStringLength());
        }
        return items;
    }
    throw ConfigError("config key " + key + ": unsupported value type (use flat keys)");
}

// An override takes the type the file gives the key, so a typo in a number fails at start.
Config::Value from_env(const std::string& key, const Config::Value& old, const std::string& text)
{
    const std::string where = "environment " + std::string(kEnvPrefix) + key;
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
        if (std::holds_alternative<double>(old)) {
            auto v = std::stod(text, &used);
            if (used != text.size())
                throw std::invalid_argument(text);
            return v;
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

Config Config::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw ConfigError("cannot read config file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> environment;
    for (char** e = environ; e && *e; ++e)
        environment.emplace_back(*e);
    return parse(ss.str(), environment, path);
}

Config Config::parse(const std::string& text, const std::vector<std::string>& environment,
                     const std::string& file)
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
    for (const auto& m : doc.GetObject()) {
        const std::string key(m.name.GetString(), m.name.GetStringLength());
        c.values_[key] = from_json(key, m.value);
    }
    // Only keys the file knows can be overridden: an unknown APP_ variable is a typo to report.
    for (const std::string& entry : environment) {
        if (entry.rfind(kEnvPrefix, 0) != 0)
            continue;
        const auto eq = entry.find('=');
        const std::string key = lower(entry.substr(4, eq - 4));
        if (key == "config")
            continue;
        auto it = c.values_.find(key);
        if (it == c.values_.end())
            throw ConfigError("environment " + entry.substr(0, eq) + ": no such config key in " + file);
        it->second = from_env(key, it->second, entry.substr(eq + 1));
    }
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

double Config::number(const std::string& key) const
{
    const auto& v = at(key);
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return static_cast<double>(*i);
    return typed<double>(v, key, "a number");
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
}

}  // namespace core
