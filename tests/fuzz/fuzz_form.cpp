// fuzz_form.cpp: urlencoded form bodies through core::Request: form_params and form(key) under
// the content types a client may send, and the log line of such a request.
#include <fuzzer/FuzzedDataProvider.h>

#include "app/core/dispatcher.h"
#include "app/core/request.h"
#include "tests/fuzz/fuzz.h"

namespace {

const char* const kTypes[] = {"application/x-www-form-urlencoded",
                              "application/x-www-form-urlencoded; charset=UTF-8",
                              "APPLICATION/X-WWW-FORM-URLENCODED",
                              "application/x-www-form-urlencoded; charset=latin1",
                              "application/x-www-form-urlencodedx",
                              "multipart/form-data",
                              "application/json",
                              "text/plain",
                              ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::setup();
    FuzzedDataProvider in(data, size);
    const std::string type = in.PickValueInArray(kTypes);
    const std::string key = in.ConsumeRandomLengthString(32);
    const std::string body = in.ConsumeRemainingBytesAsString();

    core::Request req(
        {{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/auth/postform"}, {"CONTENT_TYPE", type}},
        body);
    const auto& params = req.form_params();
    // Only a body declared as a form is read as one.
    const bool is_form = core::content_type_is(type, "application/x-www-form-urlencoded");
    FUZZ_CHECK(params == (is_form ? core::parse_urlencoded(body) : core::Params{}),
               "form_params differs from parse_urlencoded(body)");
    // form(key) is the first value under key.
    std::optional<std::string> first;
    for (const auto& [k, v] : params)
        if (k == key) {
            first = v;
            break;
        }
    FUZZ_CHECK(req.form(key) == first, "form(key) is not the first value under key");
    const auto line = core::loggable_params(req, core::config().list("log_secret_keys"));
    FUZZ_CHECK(line.size() <= 1003, "the logged parameters are not cut at 1000 characters");
    return 0;
}
