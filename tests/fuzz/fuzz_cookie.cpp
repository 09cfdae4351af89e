// fuzz_cookie.cpp: the Cookie request header (parse_cookies, Request::cookie) and the Set-Cookie
// values we build (set_cookie_header), which must refuse what would break the header.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <limits>
#include <stdexcept>

#include "app/core/cookie.h"
#include "app/core/request.h"
#include "tests/fuzz/fuzz.h"

namespace {

bool space(char c)
{
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

void check_parse(const std::string& header, const std::string& name)
{
    const auto cookies = core::parse_cookies(header);
    for (const auto& [k, v] : cookies) {
        FUZZ_CHECK(!k.empty(), "parse_cookies gave an empty name");
        FUZZ_CHECK(!space(k.front()) && !space(k.back()), "a cookie name is not trimmed");
        FUZZ_CHECK(k.find(';') == std::string::npos && v.find(';') == std::string::npos,
                   "a cookie name or value holds ';'");
    }
    core::Request req({{"HTTP_COOKIE", header}}, "");
    const auto it = cookies.find(name);
    FUZZ_CHECK(req.cookie(name) ==
                   (it == cookies.end() ? std::nullopt : std::optional<std::string>(it->second)),
               "Request::cookie disagrees with parse_cookies");
}

void check_build(FuzzedDataProvider& in)
{
    core::Cookie c;
    c.name = in.ConsumeRandomLengthString(32);
    c.value = in.ConsumeRandomLengthString(128);
    c.domain = in.ConsumeBool() ? in.ConsumeRandomLengthString(32) : "";
    if (in.ConsumeBool())
        c.path = in.ConsumeRandomLengthString(32);
    if (in.ConsumeBool())
        c.max_age = in.ConsumeIntegral<std::int64_t>();
    c.http_only = in.ConsumeBool();
    c.secure = in.ConsumeBool();
    const char* const kSameSite[] = {"Lax", "Strict", "None", ""};
    c.same_site = in.PickValueInArray(kSameSite);
    // Any time from 1970 to 2100: what a clock can say.
    const auto now =
        static_cast<std::time_t>(in.ConsumeIntegralInRange<std::int64_t>(0, 4102444800));
    std::string header;
    try {
        header = core::set_cookie_header(c, now);
    } catch (const std::invalid_argument&) {
        return;
    }
    FUZZ_CHECK(header.find_first_of("\r\n") == std::string::npos, "Set-Cookie holds a line break");
    // The browser reads back the name and value we set, and nothing else before the first ';'.
    const auto first = header.substr(0, header.find(';'));
    const auto back = core::parse_cookies(first);
    FUZZ_CHECK_SHOW(
        back.size() == 1 && back.begin()->first == c.name && back.begin()->second == c.value,
        "the Set-Cookie value does not read back as name=value", header);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FuzzedDataProvider in(data, size);
    const std::string name = in.ConsumeRandomLengthString(16);
    check_parse(std::string(fuzz::as_text(data, size)), name);
    check_build(in);
    return 0;
}
