// json.cpp: safe parsing of request bodies (iterative, UTF-8 validated) and small writers.
#include "app/core/json.h"

#include <algorithm>

#include <rapidjson/error/en.h>

#include "app/core/errors.h"
#include "app/core/text.h"

namespace core {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Parses one JSON value; anything but white space after it is an error too. RapidJSON reads a
// NUL byte as the end of the text, so one is refused first: never valid outside a string, and
// inside one it must be written as \u0000.
bool parse_into(rapidjson::Document& doc, std::string_view text, std::string* why)
{
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        if (why)
            *why = "NUL byte at offset " + std::to_string(nul);
        return false;
    }
    doc.Parse<kParseFlags>(text.data(), text.size());
    if (doc.HasParseError()) {
        if (why)
            *why = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
                   std::to_string(doc.GetErrorOffset());
        return false;
    }
    return true;
}

// Walks a parsed body without recursion: 400 when it nests deeper than kMaxJsonDepth, an object
// has a key twice, or a string is not UTF-8 (RapidJSON 1.1 takes a lone low surrogate escape,
// "\udc00", and writes it out as bytes no UTF-8 reader accepts).
void check_shape(const rapidjson::Value& root)
{
    const auto utf8 = [](const rapidjson::Value& s) {
        if (!valid_utf8({s.GetString(), s.GetStringLength()}))
            throw BadRequest("malformed JSON: a string is not valid UTF-8 (a lone surrogate)");
    };
    std::vector<std::pair<const rapidjson::Value*, int>> todo{{&root, 1}};  // containers only
    std::vector<std::string_view> keys;
    while (!todo.empty()) {
        const rapidjson::Value* v = todo.back().first;  // no structured binding: the lambda
        const int depth = todo.back().second;           // below captures it (clang 14)
        todo.pop_back();
        if (depth > kMaxJsonDepth)
            throw BadRequest("malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
                             " levels");
        auto visit = [&](const rapidjson::Value& child) {
            if (child.IsObject() || child.IsArray())
                todo.emplace_back(&child, depth + 1);
            else if (child.IsString())
                utf8(child);
        };
        if (v->IsArray()) {
            for (const auto& item : v->GetArray())
                visit(item);
            continue;
        }
        keys.clear();
        for (const auto& m : v->GetObject()) {
            utf8(m.name);
            keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
            visit(m.value);
        }
        std::sort(keys.begin(), keys.end());
        const auto twice = std::adjacent_find(keys.begin(), keys.end());
        if (twice != keys.end())
            throw BadRequest("malformed JSON: duplicate key " +
                             json_escape(printable(*twice, 100)));
    }
}

const rapidjson::Value* find(const rapidjson::Document& doc, const char* key)
{
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || it->value.IsNull())
        return nullptr;
    return &it->value;
}

}  // namespace

JsonObject JsonObject::parse(std::string_view text)
{
    JsonObject o;
    std::string why;
    if (text.empty())
        throw BadRequest("request body must be a JSON object");
    if (!parse_into(o.doc_, text, &why))
        throw BadRequest("malformed JSON: " + why);
    if (!o.doc_.IsObject())
        throw BadRequest("request body must be a JSON object");
    check_shape(o.doc_);
    return o;
}

bool JsonObject::has(const char* key) const
{
    return find(doc_, key) != nullptr;
}

std::string JsonObject::required_string(const char* key) const
{
    auto v = optional_string(key);
    if (!v)
        throw BadRequest(std::string("missing field: ") + key);
    return *v;
}

std::optional<std::string> JsonObject::optional_string(const char* key) const
{
    const auto* v = find(doc_, key);
    if (!v)
        return std::nullopt;
    if (!v->IsString())
        throw BadRequest(std::string(key) + " must be a string");
    return std::string(v->GetString(), v->GetStringLength());
}

std::optional<bool> JsonObject::optional_bool(const char* key) const
{
    const auto* v = find(doc_, key);
    if (!v)
        return std::nullopt;
    if (!v->IsBool())
        throw BadRequest(std::string(key) + " must be true or false");
    return v->GetBool();
}

std::optional<std::int64_t> JsonObject::optional_int(const char* key) const
{
    const auto* v = find(doc_, key);
    if (!v)
        return std::nullopt;
    if (!v->IsInt64())
        throw BadRequest(std::string(key) + " must be an integer");
    return v->GetInt64();
}

std::vector<std::string> JsonObject::keys() const
{
    std::vector<std::string> out;
    for (const auto& m : doc_.GetObject())
        out.emplace_back(m.name.GetString(), m.name.GetStringLength());
    return out;
}

std::string json_escape(std::string_view s)
{
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    if (valid_utf8(s)) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    } else {
        const auto valid = to_valid_utf8(s);
        w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    }
    return std::string(sb.GetString(), sb.GetSize());
}

std::string json_member(const std::string& key, const std::string& value)
{
    return "{" + json_escape(key) + ":" + json_escape(value) + "}";
}

std::string json_member(const std::string& key, std::int64_t value)
{
    return "{" + json_escape(key) + ":" + std::to_string(value) + "}";
}

bool is_valid_json(std::string_view text)
{
    rapidjson::Document doc;
    return parse_into(doc, text, nullptr);
}

}  // namespace core
