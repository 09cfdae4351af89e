// notify.h: the service manager's view of a master (systemd Type=notify, the
// sd_notify protocol): READY once it serves, RELOADING ... READY around a reload, STOPPING on the
// way out. Without $NOTIFY_SOCKET (local development, tests) every call is a no-op.
#pragma once
#include <string>

namespace prefork {

void notify_ready(const std::string& status);
void notify_reloading(const std::string& status);
void notify_stopping(const std::string& status);
void notify_status(const std::string& status);  // STATUS= alone: what `systemctl status` shows

}  // namespace prefork
