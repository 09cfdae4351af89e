// fuzz_template.cpp: the project's mustache pages (app/templates, through core::render) filled
// with user data: what the data holds never adds markup, i.e. no raw < > " ' comes from it.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

#include "app/core/template.h"
#include "tests/fuzz/fuzz.h"

namespace {

using core::TemplateData;

// Every variable the pages use (api_list's rows too); the sections get strings or flags.
const char* const kNames[] = {"mode",      "title",      "email",     "first_name", "last_name",
                              "err",       "note",       "token",     "time",       "count",
                              "local_dev", "production", "test_mode", "log_sql",    "uptime"};
const char* const kFlags[] = {"is_login", "signup", "is_forgot", "reset", "password", "password2"};
const char* const kRow[] = {"method", "path", "doc", "role", "source"};
const char* const kPages[] = {"auth.html", "api_list.html", "example.html"};

// The same data, with every markup character of its strings made harmless: rendering both
// must give the same count of markup characters, else the data added some.
std::string defused(std::string s)
{
    std::replace_if(
        s.begin(), s.end(), [](char c) { return c == '<' || c == '>' || c == '"' || c == '\''; },
        'x');
    return s;
}

std::size_t markup(const std::string& html)
{
    return std::count_if(html.begin(), html.end(),
                         [](char c) { return c == '<' || c == '>' || c == '"' || c == '\''; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::setup();
    FuzzedDataProvider in(data, size);
    const std::string name = in.PickValueInArray(kPages);
    TemplateData page, safe;
    for (const char* name : kNames)
        if (in.ConsumeBool()) {
            const auto v = in.ConsumeRandomLengthString(64);
            page.set(name, v);
            safe.set(name, defused(v));
        }
    for (const char* name : kFlags) {
        const auto flag =
            in.ConsumeBool() ? TemplateData::type::bool_true : TemplateData::type::bool_false;
        page.set(name, flag);
        safe.set(name, flag);
    }
    TemplateData rows{TemplateData::type::list}, safe_rows{TemplateData::type::list};
    for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) {
        TemplateData row, safe_row;
        for (const char* name : kRow) {
            const auto v = in.ConsumeRandomLengthString(32);
            row.set(name, v);
            safe_row.set(name, defused(v));
        }
        rows.push_back(row);
        safe_rows.push_back(safe_row);
    }
    page.set("routes", rows);
    safe.set("routes", safe_rows);

    const auto html = core::render(name, page);
    FUZZ_CHECK_SHOW(markup(html) == markup(core::render(name, safe)),
                    "user data added a raw < > \" or ' to a rendered page", html);
    return 0;
}
