// fuzz_json.cpp: JSON request bodies: core::JsonObject::parse and the field checks of
// app/api/input.h. Whatever parse accepts must hold valid UTF-8 in every key and string.
#include <vector>

#include "app/api/input.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/text.h"
#include "tests/fuzz/fuzz.h"

namespace {

// Every key and string at any depth, walked with a stack of our own: parse accepts deep nesting.
void check_strings(const rapidjson::Value& root)
{
    std::vector<const rapidjson::Value*> todo{&root};
    while (!todo.empty()) {
        const auto* v = todo.back();
        todo.pop_back();
        if (v->IsString()) {
            FUZZ_CHECK_SHOW(core::valid_utf8({v->GetString(), v->GetStringLength()}),
                            "JsonObject::parse accepted a string that is not valid UTF-8",
                            std::string(v->GetString(), v->GetStringLength()));
        } else if (v->IsObject()) {
            for (const auto& m : v->GetObject()) {
                FUZZ_CHECK_SHOW(core::valid_utf8({m.name.GetString(), m.name.GetStringLength()}),
                                "JsonObject::parse accepted a key that is not valid UTF-8",
                                std::string(m.name.GetString(), m.name.GetStringLength()));
                todo.push_back(&m.value);
            }
        } else if (v->IsArray()) {
            for (const auto& it : v->GetArray())
                todo.push_back(&it);
        }
    }
}

const std::vector<std::string> kAllowed{"title", "director", "email", "first_name", "n", "flag"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::setup();
    const auto text = fuzz::as_text(data, size);
    const bool valid = core::is_valid_json(text);
    std::optional<core::JsonObject> in;
    try {
        in = core::JsonObject::parse(text);
    } catch (const core::BadRequest&) {
        return 0;
    }
    FUZZ_CHECK(valid, "JsonObject::parse accepted what is_valid_json refuses");
    FUZZ_CHECK(in->value().IsObject(), "JsonObject::parse returned something else than an object");
    check_strings(in->value());

    try {
        api::only_fields(in->keys(), kAllowed);
    } catch (const core::BadRequest&) {
    }
    for (const auto& key : in->keys()) {
        const char* k = key.c_str();  // the handlers' keys are C strings: a NUL cuts them short
        const auto m = in->value().FindMember(k);
        FUZZ_CHECK(in->has(k) == (m != in->value().MemberEnd() && !m->value.IsNull()),
                   "has(key) disagrees with the document");
        try {
            if (auto s = in->optional_string(k))
                FUZZ_CHECK(core::valid_utf8(*s), "optional_string returned invalid UTF-8");
        } catch (const core::BadRequest&) {
        }
        try {
            in->optional_bool(k);
        } catch (const core::BadRequest&) {
        }
        try {
            in->optional_int(k);
        } catch (const core::BadRequest&) {
        }
        try {
            // What line_field lets through is one clean line: UTF-8, no control characters.
            if (auto s = api::line_field(*in, k, api::kMaxName))
                FUZZ_CHECK(!core::line_problem(*s, api::kMaxName),
                           "line_field let a bad line through");
        } catch (const core::BadRequest&) {
        }
    }
    return 0;
}
