// fixture.h: every suite starts with the config a main would load ($APP_CONFIG, APP_* overrides),
// so the db and api suites find the private stack that deploy/local.sh test started.
#pragma once
#include <cstdlib>
#include <string>

#include <log4cplus/initializer.h>

#include "app/api/settings_schema.h"
#include "app/core/config.h"
#include "app/core/log.h"

namespace test {

struct ConfigFixture {
    log4cplus::Initializer log_init;
    ConfigFixture()
    {
        auto c = core::Config::load(core::Config::path_from(0, nullptr), api::settings_schema());
        if (!std::getenv("APP_LOG_FILE"))
            c.set("log_file", std::string());  // tests log to the console unless told otherwise
        core::set_config(std::move(c));
        core::init_logging(core::config(), "test");
    }
};

}  // namespace test
