// fuzz.h: what every harness shares: a failed property stops the fuzzer like a crash does, the
// logging is silenced (fast, and no noise in the report) and the config a test process needs.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <log4cplus/initializer.h>
#include <log4cplus/logger.h>

#include "app/core/config.h"
#include "app/core/dispatcher.h"
#include "app/core/log.h"
#include "app/core/settings.h"
#include "app/core/template.h"

namespace fuzz {

// A property that does not hold: libFuzzer saves the input on abort(), as on a sanitizer report.
// `shown` is printed with it (bytes outside printable ASCII as \xNN), to tell what went wrong.
#define FUZZ_CHECK_SHOW(cond, what, shown)                                                        \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n%s\n", __FILE__, __LINE__, \
                         what, #cond, fuzz::escaped(shown).c_str());                              \
            std::abort();                                                                         \
        }                                                                                         \
    } while (0)
#define FUZZ_CHECK(cond, what) FUZZ_CHECK_SHOW(cond, what, std::string())

inline std::string escaped(std::string_view s)
{
    std::string out;
    for (unsigned char c : s) {
        char buf[8];
        std::snprintf(buf, sizeof buf, c >= 0x20 && c < 0x7f && c != '\\' ? "%c" : "\\x%02x", c);
        out += buf;
    }
    return out;
}

// Once per process: log4cplus set up with every logger off, and the config of the modules the
// code under test reads, loaded as a main does (the defaults fill in the rest).
inline void setup()
{
    static bool done = [] {
        static log4cplus::Initializer init;
        log4cplus::Logger::getRoot().setLogLevel(log4cplus::OFF_LOG_LEVEL);
        core::SettingsSchema schema;
        schema.add<core::ModeSettings>()
            .add<core::LogSettings>()
            .add<core::DispatcherSettings>()
            .add<core::TemplateSettings>();
        const std::string text = R"({"cors_origins": ["https://app.example"], "template_dir": ")" +
                                 std::string(FUZZ_TEMPLATE_DIR) + "\"}";
        core::set_config(core::Config::parse(text, {}, "fuzz.h", schema));
        return true;
    }();
    (void)done;
}

inline std::string_view as_text(const uint8_t* data, size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fuzz
