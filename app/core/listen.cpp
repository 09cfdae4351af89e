// listen.cpp: binding the FastCGI socket when the server is started without spawn-fcgi.
#include "app/core/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/core/errors.h"

namespace core {
namespace {

constexpr int kBacklog = 1024;

[[noreturn]] void fail(const std::string& spec, const char* what)
{
    throw ConfigError("listen " + spec + ": " + what + ": " + std::strerror(errno));
}

int listen_unix(const std::string& spec, const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw ConfigError("listen " + spec + ": socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail(spec, "socket");
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path.c_str());  // left by a previous run
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        fail(spec, "bind");
    chmod(path.c_str(), 0666);
    if (listen(fd, kBacklog) < 0)
        fail(spec, "listen");
    return fd;
}

int listen_tcp(const std::string& spec)
{
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos)
        throw ConfigError("listen " + spec + ": expected unix:/path or host:port");
    const std::string host = spec.substr(0, colon), port = spec.substr(colon + 1);
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
        throw ConfigError("listen " + spec + ": cannot resolve");
    const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int rc = bind(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (fd < 0 || rc < 0)
        fail(spec, "bind");
    if (listen(fd, kBacklog) < 0)
        fail(spec, "listen");
    return fd;
}

}  // namespace

bool is_listening_socket(int fd)
{
    int accepting = 0;
    socklen_t len = sizeof accepting;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting;
}

int listen_on(const std::string& spec)
{
    if (spec.rfind("unix:", 0) == 0)
        return listen_unix(spec, spec.substr(5));
    if (!spec.empty() && spec[0] == '/')
        return listen_unix(spec, spec);
    return listen_tcp(spec);
}

}  // namespace core
