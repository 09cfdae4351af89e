// notify.cpp: see notify.h. systemd's notification protocol is one datagram to the unix socket
// named in $NOTIFY_SOCKET (systemd's sd_notify(3) documents it as stable and meant to be spoken
// without libsystemd), so no process of ours links libsystemd and the six libraries it
// pulls in: each one would cost every worker its relocated pages. $NOTIFY_SOCKET stays in the
// environment: a master that re-executes itself on a reload must still find it in its new image.
#include "app/prefork/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace prefork {
namespace {

void send(const std::string& state, const std::string& status)
{
    const char* where = std::getenv("NOTIFY_SOCKET");
    sockaddr_un addr{};
    const std::size_t len = where ? std::strlen(where) : 0;
    // A path, or '@' for an abstract name; anything else (none, vsock) is not ours to speak to.
    if (len < 2 || len >= sizeof addr.sun_path || (where[0] != '/' && where[0] != '@'))
        return;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, where, len);
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0';
    std::string message = state;
    if (!status.empty())
        message += (message.empty() ? "" : "\n") + ("STATUS=" + status);
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    // A failure is nothing to act on: the service manager just does not hear from us.
    sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
    close(fd);
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
