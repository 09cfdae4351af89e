// schema.h: the shape of what a route takes and gives, declared once beside its handler. The same
// declaration checks a request body (400 with the handlers' own messages) and becomes the
// route's schemas in /api/openapi.json, so the document cannot drift from the checks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "app/core/json.h"

namespace core {

enum class Type { string, integer, boolean, object, array };

struct Field;

struct Schema {
    Type type = Type::object;
    std::string name;            // a named object is one component (#/components/schemas/<name>)
    std::string doc;             // OpenAPI description
    std::string format;          // documentation only: "uuid", "email", "password"
    std::size_t max_length = 0;  // string: one line of at most this many characters (0: unchecked)
    bool non_empty = false;      // string: "" is refused (400 "<label> must not be empty")
    bool multiline = false;      // string: line breaks and tabs allowed (text_problem, text.h)
    bool nullable = false;       // a reply may carry null here
    bool open = false;           // object: members beyond fields may come (any_object)
    std::vector<Field> fields;   // object: its members, in the order they are checked
    std::vector<Schema> items;   // array: one schema, its items'
    std::vector<std::string> ignored;  // object: accepted and ignored (a client sends back a read)
    std::string missing;  // object: the 400 for an absent (or "" non_empty) required member;
                          // empty: "missing field: <name>" and "<label> must not be empty"

    // Builders, so a declaration reads as a list: Schema::object("Login").text("email", 254)...
    static Schema object(std::string name = "", std::string doc = "");
    static Schema array_of(Schema items, std::string doc = "");
    static Schema of(Type t, std::string doc = "");
    static Schema any_object(std::string doc);
    Schema& text(const std::string& field, std::size_t max_length = 0, std::string doc = "");
    // A multi-line text (a review, a comment): text() that may hold line breaks and tabs.
    Schema& multiline_text(const std::string& field, std::size_t max_length, std::string doc = "");
    Schema& flag(const std::string& field, std::string doc = "");    // boolean
    Schema& number(const std::string& field, std::string doc = "");  // integer
    Schema& member(const std::string& field, Schema value);          // anything else
    // These change the member added last.
    Schema& required();
    Schema& not_empty();
    Schema& or_null();
    Schema& formatted(std::string format);
    Schema& label(std::string label);  // its name in a limit's 400 ("first name" for fname)
    Schema& ignore(std::vector<std::string> names);
    Schema& when_missing(std::string message);

    // 400 (core::BadRequest) on the first problem, in this order: an unknown member, then each
    // member in declared order of the wrong type or over its limit, then an absent required or
    // empty non_empty one. Nested members are checked for their type only.
    void check(const JsonObject& in) const;

    // The OpenAPI 3.0 schema object; a named object inside it (not at the top when inline_top)
    // is written as a $ref, and its name added to refs for the components.
    void write(JsonWriter& w, std::vector<const Schema*>& refs, bool inline_top = false) const;
};

struct Field {
    std::string name, label;
    Schema schema;
    bool required = false;
};

// 400 "<field> must be ..." when value is not valid UTF-8, has control characters or is longer
// than max characters.
void check_line(const std::string& field, const std::string& value, std::size_t max);

// The same for a multi-line text: line breaks and tabs allowed.
void check_text(const std::string& field, const std::string& value, std::size_t max);

// 400 "unknown field: x" for the first key not in allowed.
void only_fields(const std::vector<std::string>& keys, const std::vector<std::string>& allowed);

}  // namespace core
