// json.h: RapidJSON helpers: parsing request bodies safely and writing replies.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace core {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// How deep a request body may nest (an object in an array in an object is 3): far above what an
// API body needs, far below what would make walking it (the log line's masking) a risk.
constexpr int kMaxJsonDepth = 64;

// A request body that must be a JSON object. Parsing is iterative (no stack overflow on deep
// nesting) and validates UTF-8; the whole body must be that one object (a NUL byte is not an
// end), nested at most kMaxJsonDepth deep, with no key twice in one object (parsers disagree on
// which value wins). Every failure is a BadRequest with a clear message.
class JsonObject {
public:
    static JsonObject parse(std::string_view text);

    bool has(const char* key) const;
    std::string required_string(
        const char* key) const;  // 400 "missing field: key" / "key must be a string"
    std::optional<std::string> optional_string(const char* key) const;  // null counts as absent
    std::optional<bool> optional_bool(const char* key) const;
    std::optional<std::int64_t> optional_int(const char* key) const;
    std::vector<std::string> keys() const;
    const rapidjson::Value& value() const { return doc_; }

private:
    rapidjson::Document doc_;
};

// Serialises anything with `void to_json(JsonWriter&) const`.
template <typename T>
std::string to_json(const T& obj)
{
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    obj.to_json(w);
    return std::string(sb.GetString(), sb.GetSize());
}

template <typename T>
std::string to_json_array(const std::vector<T>& items)
{
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartArray();
    for (const auto& it : items)
        it.to_json(w);
    w.EndArray();
    return std::string(sb.GetString(), sb.GetSize());
}

// {"key": value} for one string / integer member, the commonest small replies.
std::string json_member(const std::string& key, const std::string& value);
std::string json_member(const std::string& key, std::int64_t value);
// A quoted JSON string literal; bytes that are not UTF-8 become U+FFFD, so an echo of the
// client's bytes (a path, a name) is still valid JSON text.
std::string json_escape(std::string_view s);

// Checks that text is one valid JSON value (the red module stores JSON text).
bool is_valid_json(std::string_view text);

}  // namespace core
