// settings_schema.cpp: see settings_schema.h. A module with config keys adds its settings struct
// here.
#include "app/api/settings_schema.h"

#include "app/api/csrf.h"
#include "app/api/password_reset.h"
#include "app/api/session.h"
#include "app/api/throttle.h"
#include "app/core/dispatcher.h"
#include "app/core/log.h"
#include "app/prefork/server_settings.h"
#include "app/prefork/supervisor.h"
#include "app/core/template.h"
#include "app/prefork/worker_life.h"
#include "app/model/db_settings.h"
#include "app/red/red_settings.h"
#include "app/tasks/cron.h"
#include "app/tasks/spool.h"
#include "app/tasks/spooler_process.h"

namespace api {

const core::SettingsSchema& settings_schema()
{
    static const core::SettingsSchema schema = [] {
        core::SettingsSchema s;
        s.add<core::ModeSettings>()
            .add<prefork::SupervisorOptions>()
            .add<prefork::RecycleLimits>()
            .add<prefork::ServerSettings>()
            .add<core::TemplateSettings>()
            .add<model::DbSettings>()
            .add<red::RedisSettings>()
            .add<core::LogSettings>()
            .add<core::DispatcherSettings>()
            .add<SessionSettings>()
            .add<ThrottleSettings>()
            .add<FormTokenSettings>()
            .add<PasswordResetSettings>()
            .add<tasks::SpoolSettings>()
            .add<tasks::SpoolerSettings>()
            .add<tasks::CronSettings>();
        return s;
    }();
    return schema;
}

}  // namespace api
