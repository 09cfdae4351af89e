// fuzz_logmask.cpp: the request's parameters in the log line (core::loggable_params) and a task's
// arguments (core::loggable_json): a value sent under a secret key never reaches the log, however
// the request is shaped. Secret values are a canary that the rest of the input cannot hold.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>

#include "app/core/dispatcher.h"
#include "app/core/json.h"
#include "tests/fuzz/encode.h"
#include "tests/fuzz/fuzz.h"

namespace {

const std::string kCanary = "Zq9Canary";
const char* const kTypes[] = {"application/x-www-form-urlencoded", "application/json", "",
                              "text/plain"};

const std::vector<std::string>& secrets()
{
    return core::config().list("log_secret_keys");
}

// A key holding a secret word in any ASCII case, with text around it: "new_PassWord2".
std::string secret_key(FuzzedDataProvider& in)
{
    std::string word = secrets()[in.ConsumeIntegralInRange<size_t>(0, secrets().size() - 1)];
    for (auto& c : word)
        if (in.ConsumeBool())
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return in.ConsumeRandomLengthString(8) + word + in.ConsumeRandomLengthString(8);
}

std::string secret_value(FuzzedDataProvider& in)
{
    return kCanary + std::to_string(in.ConsumeIntegral<uint16_t>());
}

core::Params params(FuzzedDataProvider& in)
{
    core::Params out;
    for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) {
        if (in.ConsumeBool())
            out.emplace_back(secret_key(in), secret_value(in));
        else
            out.emplace_back(in.ConsumeRandomLengthString(16), in.ConsumeRandomLengthString(32));
    }
    return out;
}

// A JSON value with secrets at any depth, in objects and arrays; an object when `object`.
void json_value(FuzzedDataProvider& in, core::JsonWriter& w, int depth, bool object = false)
{
    const int kind = object ? 2 : depth > 4 ? 0 : in.ConsumeIntegralInRange(0, 2);
    if (kind == 0) {
        const auto s = in.ConsumeRandomLengthString(32);
        w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    } else if (kind == 1) {
        w.StartArray();
        for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i)
            json_value(in, w, depth + 1);
        w.EndArray();
    } else {
        w.StartObject();
        for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) {
            const bool secret = in.ConsumeBool();
            const auto key = secret ? secret_key(in) : in.ConsumeRandomLengthString(16);
            w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
            if (secret) {
                const auto v = secret_value(in);
                w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
            } else {
                json_value(in, w, depth + 1);
            }
        }
        w.EndObject();
    }
}

// The top is an object, as request bodies and task arguments are.
std::string json_object(FuzzedDataProvider& in)
{
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    json_value(in, w, 0, true);
    return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::setup();
    // Only inputs whose own bytes cannot spell the canary: then any canary in the log is a leak.
    if (fuzz::as_text(data, size).find("Canary") != std::string_view::npos)
        return 0;
    FuzzedDataProvider in(data, size);
    const std::string query = fuzz::encode_params(params(in));
    const std::string type = in.PickValueInArray(kTypes);
    // The body's shape is chosen apart from its declared type: clients get that wrong.
    std::string body;
    switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: body = fuzz::encode_params(params(in)); break;
    case 1: body = json_object(in); break;
    default: body = in.ConsumeRandomLengthString(64); break;
    }
    core::Request req({{"REQUEST_METHOD", "POST"},
                       {"DOCUMENT_URI", "/api/login"},
                       {"CONTENT_TYPE", type},
                       {"QUERY_STRING", query}},
                      body);
    const auto line = core::loggable_params(req, secrets());
    FUZZ_CHECK_SHOW(line.find(kCanary) == std::string::npos,
                    "loggable_params logged a secret value",
                    "type " + type + ", query " + query + ", body " + body + "\nlogged: " + line);
    FUZZ_CHECK(line.size() <= 1003, "loggable_params did not cut the line");

    const auto args = json_object(in);
    FUZZ_CHECK_SHOW(core::loggable_json(args, secrets()).find(kCanary) == std::string::npos,
                    "loggable_json logged a secret value", args);
    return 0;
}
