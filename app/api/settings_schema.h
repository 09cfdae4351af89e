// settings_schema.h: every module's config keys and settings, in one schema. All binaries check
// the one config file against it, so a key is known to all of them or to none (api is the top
// library: it sees every module).
#pragma once
#include "app/core/settings.h"

namespace api {

const core::SettingsSchema& settings_schema();

}  // namespace api
