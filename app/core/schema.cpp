// schema.cpp: checking a JSON body against its declaration, and writing it as OpenAPI.
#include "app/core/schema.h"

#include <algorithm>

#include "app/core/errors.h"
#include "app/core/text.h"

namespace core {
namespace {

const char* type_name(Type t)
{
    switch (t) {
    case Type::string: return "string";
    case Type::integer: return "integer";
    case Type::boolean: return "boolean";
    case Type::array: return "array";
    case Type::object: break;
    }
    return "object";
}

void key(JsonWriter& w, const std::string& k)
{
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
}

void string(JsonWriter& w, const std::string& s)
{
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

// The member's value through JsonObject's typed getters, which throw the messages clients know
// ("title must be a string"); nested objects and arrays by their JSON type.
void check_type(const JsonObject& in, const Field& f)
{
    const char* k = f.name.c_str();
    switch (f.schema.type) {
    case Type::string: in.optional_string(k); return;
    case Type::boolean: in.optional_bool(k); return;
    case Type::integer: in.optional_int(k); return;
    case Type::object:
    case Type::array: break;
    }
    const auto it = in.value().FindMember(k);
    if (it == in.value().MemberEnd() || it->value.IsNull())
        return;
    if (f.schema.type == Type::object ? !it->value.IsObject() : !it->value.IsArray())
        throw BadRequest(f.name + " must be " +
                         (f.schema.type == Type::object ? "an object" : "an array"));
}

}  // namespace

Schema Schema::object(std::string name, std::string doc)
{
    Schema s;
    s.name = std::move(name);
    s.doc = std::move(doc);
    return s;
}

Schema Schema::array_of(Schema items, std::string doc)
{
    Schema s = of(Type::array, std::move(doc));
    s.items.push_back(std::move(items));
    return s;
}

Schema Schema::of(Type t, std::string doc)
{
    Schema s;
    s.type = t;
    s.doc = std::move(doc);
    return s;
}

Schema Schema::any_object(std::string doc)
{
    Schema s = of(Type::object, std::move(doc));
    s.open = true;
    return s;
}

Schema& Schema::text(const std::string& field, std::size_t max, std::string doc)
{
    Schema s = of(Type::string, std::move(doc));
    s.max_length = max;
    return member(field, std::move(s));
}

Schema& Schema::multiline_text(const std::string& field, std::size_t max, std::string doc)
{
    Schema s = of(Type::string, std::move(doc));
    s.max_length = max;
    s.multiline = true;
    return member(field, std::move(s));
}

Schema& Schema::flag(const std::string& field, std::string doc)
{
    return member(field, of(Type::boolean, std::move(doc)));
}

Schema& Schema::number(const std::string& field, std::string doc)
{
    return member(field, of(Type::integer, std::move(doc)));
}

Schema& Schema::member(const std::string& field, Schema value)
{
    fields.push_back(Field{field, field, std::move(value)});
    return *this;
}

Schema& Schema::required()
{
    fields.back().required = true;
    return *this;
}

Schema& Schema::not_empty()
{
    fields.back().schema.non_empty = true;
    return *this;
}

Schema& Schema::or_null()
{
    fields.back().schema.nullable = true;
    return *this;
}

Schema& Schema::formatted(std::string f)
{
    fields.back().schema.format = std::move(f);
    return *this;
}

Schema& Schema::label(std::string l)
{
    fields.back().label = std::move(l);
    return *this;
}

Schema& Schema::ignore(std::vector<std::string> names)
{
    ignored = std::move(names);
    return *this;
}

Schema& Schema::when_missing(std::string message)
{
    missing = std::move(message);
    return *this;
}

void Schema::check(const JsonObject& in) const
{
    std::vector<std::string> allowed = ignored;
    for (const auto& f : fields)
        allowed.push_back(f.name);
    only_fields(in.keys(), allowed);
    for (const auto& f : fields) {
        check_type(in, f);
        if (f.schema.max_length > 0)
            if (const auto v = in.optional_string(f.name.c_str()))
                (f.schema.multiline ? check_text : check_line)(f.label, *v, f.schema.max_length);
    }
    for (const auto& f : fields) {
        if (f.required && !in.has(f.name.c_str()))
            throw BadRequest(missing.empty() ? "missing field: " + f.name : missing);
        if (f.schema.non_empty && in.optional_string(f.name.c_str()) == std::string())
            throw BadRequest(missing.empty() ? f.label + " must not be empty" : missing);
    }
}

void Schema::write(JsonWriter& w, std::vector<const Schema*>& refs, bool inline_top) const
{
    if (type == Type::object && !name.empty() && !inline_top) {
        if (std::none_of(refs.begin(), refs.end(),
                         [&](const Schema* s) { return s->name == name; }))
            refs.push_back(this);
        w.StartObject();
        w.Key("$ref");
        string(w, "#/components/schemas/" + name);
        w.EndObject();
        return;
    }
    w.StartObject();
    w.Key("type");
    w.String(type_name(type));
    if (!doc.empty()) {
        w.Key("description");
        string(w, doc);
    }
    if (!format.empty()) {
        w.Key("format");
        string(w, format);
    }
    if (non_empty) {
        w.Key("minLength");
        w.Uint(1);
    }
    if (max_length > 0) {
        w.Key("maxLength");
        w.Uint64(max_length);
    }
    if (multiline) {  // documentation only: JSON Schema has no word for "one line"
        w.Key("x-multiline");
        w.Bool(true);
    }
    if (nullable) {
        w.Key("nullable");
        w.Bool(true);
    }
    if (type == Type::array) {
        w.Key("items");
        items.at(0).write(w, refs);
    }
    if (type == Type::object) {
        w.Key("properties");
        w.StartObject();
        for (const auto& f : fields) {
            key(w, f.name);
            f.schema.write(w, refs);
        }
        for (const auto& name : ignored) {  // documented, so a client may send them back
            key(w, name);
            w.StartObject();
            w.Key("description");
            w.String("Ignored: the server sets it.");
            w.EndObject();
        }
        w.EndObject();
        if (std::any_of(fields.begin(), fields.end(), [](const Field& f) { return f.required; })) {
            w.Key("required");
            w.StartArray();
            for (const auto& f : fields)
                if (f.required)
                    string(w, f.name);
            w.EndArray();
        }
        w.Key("additionalProperties");  // unknown members are refused (400 unknown field)
        w.Bool(open);
    }
    w.EndObject();
}

void check_line(const std::string& field, const std::string& value, std::size_t max)
{
    if (auto why = line_problem(value, max))
        throw BadRequest(field + " " + *why);
}

void check_text(const std::string& field, const std::string& value, std::size_t max)
{
    if (auto why = text_problem(value, max))
        throw BadRequest(field + " " + *why);
}

void only_fields(const std::vector<std::string>& keys, const std::vector<std::string>& allowed)
{
    for (const auto& k : keys) {
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
            throw BadRequest(valid_utf8(k) ? "unknown field: " + printable(k, 100)
                                           : "unknown field (not UTF-8)");
    }
}

}  // namespace core
