// fuzz_query.cpp: query strings: parse_urlencoded and url_decode on any bytes, with round trips
// through an independent encoder.
#include <fuzzer/FuzzedDataProvider.h>

#include "app/core/request.h"
#include "tests/fuzz/encode.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto text = fuzz::as_text(data, size);

    // Any text: what it parses to, encoded canonically, parses to the same again.
    const auto params = core::parse_urlencoded(text);
    FUZZ_CHECK(core::parse_urlencoded(fuzz::encode_params(params)) == params,
               "parse(encode(parse(text))) differs from parse(text)");
    const auto decoded = core::url_decode(text);
    FUZZ_CHECK(decoded.size() <= text.size(), "url_decode made the text longer");
    FUZZ_CHECK_SHOW(core::url_decode(fuzz::url_encode(std::string(text))) == text,
                    "url_decode(url_encode(s)) != s", fuzz::url_encode(std::string(text)));

    // Parameters made from the bytes survive encoding and parsing unchanged.
    FuzzedDataProvider in(data, size);
    core::Params made;
    while (in.remaining_bytes() > 0 && made.size() < 50) {
        auto k = in.ConsumeRandomLengthString(64);
        auto v = in.ConsumeRandomLengthString(256);
        made.emplace_back(std::move(k), std::move(v));
    }
    FUZZ_CHECK(core::parse_urlencoded(fuzz::encode_params(made)) == made,
               "parse_urlencoded(encode(params)) != params");
    return 0;
}
