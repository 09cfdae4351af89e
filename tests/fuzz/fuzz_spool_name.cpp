// fuzz_spool_name.cpp: spool file names (tasks::TaskName::parse decides what in the spool folder
// is a task): only canonical names pass, and every name we write parses back to its fields.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>

#include "app/tasks/spool.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // Any file name: a task only when it is the canonical name of its own fields.
    const std::string name(fuzz::as_text(data, size));
    if (const auto t = tasks::TaskName::parse(name)) {
        FUZZ_CHECK(t->str() == name, "parse accepted a name that is not canonical");
        FUZZ_CHECK(!t->id.empty(), "parse accepted an empty id");
        for (char c : t->id)
            FUZZ_CHECK(std::isxdigit(static_cast<unsigned char>(c)), "parse accepted a non-hex id");
    }

    // Any task we could write (the ranges spool() and the spooler use) reads back the same.
    FuzzedDataProvider in(data, size);
    tasks::TaskName t;
    t.priority = in.ConsumeIntegralInRange(0, 9);
    t.not_before_ms = in.ConsumeIntegralInRange<std::int64_t>(0, 9999999999999);  // to year 2286
    t.failures = in.ConsumeIntegralInRange(0, 9999);
    static const char hex[] = "0123456789abcdef";
    const auto length = in.ConsumeIntegralInRange(1, 32);
    for (int i = 0; i < length; ++i)
        t.id += hex[in.ConsumeIntegralInRange(0, 15)];
    const auto back = tasks::TaskName::parse(t.str());
    FUZZ_CHECK(back.has_value(), "a name we write is not recognised as a task");
    FUZZ_CHECK(back->priority == t.priority && back->not_before_ms == t.not_before_ms &&
                   back->failures == t.failures && back->id == t.id,
               "a name we write parses to other fields");
    return 0;
}
