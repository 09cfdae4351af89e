// notify.cpp: see notify.h. The only file that calls libsystemd. sd_notify keeps
// $NOTIFY_SOCKET in the environment (unset_environment 0): a master that re-executes itself on a
// reload must still find it in its new image.
#include "app/prefork/notify.h"

#include <systemd/sd-daemon.h>

namespace prefork {
namespace {

void send(const std::string& state, const std::string& status)
{
    std::string message = state;
    if (!status.empty())
        message += (message.empty() ? "" : "\n") + ("STATUS=" + status);
    sd_notify(0, message.c_str());  // < 0 or 0 (no socket): nothing to do about it
}

}  // namespace

void notify_ready(const std::string& status)
{
    send("READY=1", status);
}
void notify_reloading(const std::string& status)
{
    send("RELOADING=1", status);
}
void notify_stopping(const std::string& status)
{
    send("STOPPING=1", status);
}
void notify_status(const std::string& status)
{
    send("", status);
}

}  // namespace prefork
