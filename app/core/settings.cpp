// settings.cpp: the schema's checks, and the keys of the process's mode.
#include "app/core/settings.h"

#include <algorithm>
#include <stdexcept>

#include "app/core/errors.h"

namespace core {

Key Key::flag(std::string name, bool fallback)
{
    return Key{std::move(name), fallback, false, 0, 0, ""};
}

Key Key::integer(std::string name, std::int64_t fallback, std::int64_t min, std::int64_t max)
{
    return Key{std::move(name), fallback, false, min, max, ""};
}

Key Key::text(std::string name, std::string fallback)
{
    return Key{std::move(name), std::move(fallback), false, 0, 0, ""};
}

Key Key::list(std::string name, std::vector<std::string> fallback)
{
    return Key{std::move(name), std::move(fallback), false, 0, 0, ""};
}

Key Key::required_text(std::string name, std::string unless)
{
    return Key{std::move(name), std::string(), true, 0, 0, std::move(unless)};
}

const char* type_name(const Config::Value& v)
{
    const char* const names[] = {"true or false", "an integer", "a string", "a list of strings"};
    return names[v.index()];
}

void SettingsSchema::add(Key k)
{
    if (find(k.name))
        throw std::logic_error("config key " + k.name + " is declared twice");
    keys_.push_back(std::move(k));
}

const Key* SettingsSchema::find(const std::string& name) const
{
    const auto it =
        std::find_if(keys_.begin(), keys_.end(), [&](const Key& k) { return k.name == name; });
    return it == keys_.end() ? nullptr : &*it;
}

void SettingsSchema::complete(std::map<std::string, Config::Value>& values,
                              const std::string& file) const
{
    for (const Key& k : keys_) {
        const auto it = values.find(k.name);
        if (it == values.end()) {
            const auto other = k.unless.empty() ? values.end() : values.find(k.unless);
            const auto* list = other == values.end()
                                   ? nullptr
                                   : std::get_if<std::vector<std::string>>(&other->second);
            if (k.required && !(list && !list->empty()))
                throw ConfigError(file + ": config key " + k.name +
                                  " is missing (it has no default" +
                                  (k.unless.empty() ? "" : "; or give " + k.unless) + ")");
            values.emplace(k.name, k.fallback);
            continue;
        }
        const auto* n = std::get_if<std::int64_t>(&it->second);
        if (n && (*n < k.min || *n > k.max))
            throw ConfigError(file + ": config key " + k.name + " must be in " +
                              std::to_string(k.min) + ".." + std::to_string(k.max) + ", got " +
                              std::to_string(*n));
    }
}

void SettingsSchema::build_all() const
{
    try {
        for (const auto build : builders_)
            build();
    } catch (const ConfigError& e) {
        throw ConfigError(config().file() + ": " + e.what());
    }
}

std::vector<Key> ModeSettings::keys()
{
    return {Key::flag("local_dev", false), Key::flag("production", false),
            Key::flag("test_mode", false)};
}

ModeSettings ModeSettings::from(const Config& c)
{
    return {c.flag("local_dev"), c.flag("production"), c.flag("test_mode")};
}

}  // namespace core
