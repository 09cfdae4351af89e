// listen.cpp: binding the FastCGI socket when the server is started without spawn-fcgi, and the
// address parsing shared by the stats socket and its client.
#include "app/prefork/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/core/errors.h"

namespace prefork {
namespace {

constexpr int kBacklog = 1024;

[[noreturn]] void fail(const std::string& spec, const char* what)
{
    throw core::ConfigError(spec + ": " + what + ": " + std::strerror(errno));
}

struct Address {
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = AF_UNSPEC;
    std::string path;  // unix sockets
    std::string host;  // TCP
};

Address resolve(const std::string& spec)
{
    Address a;
    a.path = unix_socket_path(spec);
    if (!a.path.empty() || spec == "unix:") {
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        if (a.path.empty() || a.path.size() >= sizeof un.sun_path)
            throw core::ConfigError(spec + ": socket path empty or too long");
        std::memcpy(un.sun_path, a.path.c_str(), a.path.size() + 1);
        std::memcpy(&a.addr, &un, sizeof un);
        a.len = sizeof un;
        a.family = AF_UNIX;
        return a;
    }
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos)
        throw core::ConfigError(spec + ": expected unix:/path or host:port");
    a.host = spec.substr(0, colon);
    const std::string port = spec.substr(colon + 1);
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(a.host.empty() ? nullptr : a.host.c_str(), port.c_str(), &hints, &res) != 0 ||
        !res)
        throw core::ConfigError(spec + ": cannot resolve");
    std::memcpy(&a.addr, res->ai_addr, res->ai_addrlen);
    a.len = res->ai_addrlen;
    a.family = res->ai_family;
    freeaddrinfo(res);
    return a;
}

}  // namespace

std::string unix_socket_path(const std::string& spec)
{
    if (spec.rfind("unix:", 0) == 0)
        return spec.substr(5);
    return !spec.empty() && spec[0] == '/' ? spec : "";
}

bool is_listening_socket(int fd)
{
    int accepting = 0;
    socklen_t len = sizeof accepting;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting;
}

int listen_on(const std::string& spec, unsigned mode)
{
    const Address a = resolve(spec);
    const int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("listen " + spec, "socket");
    struct stat st;
    if (a.family == AF_UNIX && lstat(a.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a.path.c_str());  // left by a previous run
    int one = 1;
    if (a.family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) < 0)
        fail("listen " + spec, "bind");
    if (a.family == AF_UNIX)
        chmod(a.path.c_str(), mode);
    if (listen(fd, kBacklog) < 0)
        fail("listen " + spec, "listen");
    return fd;
}

int connect_to(const std::string& spec)
{
    const Address a = resolve(spec);
    const int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("connect " + spec, "socket");
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) < 0) {
        const int saved = errno;
        close(fd);
        errno = saved;
        fail("connect " + spec, "connect");
    }
    return fd;
}

bool is_local_address(const std::string& spec)
{
    const Address a = resolve(spec);
    if (a.family == AF_UNIX)
        return true;
    if (a.family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.addr);
    return a.family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

std::string canonical_ip(const std::string& text)
{
    char out[INET6_ADDRSTRLEN] = "";
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
        return inet_ntop(AF_INET, &v4, out, sizeof out) ? out : "";
    if (inet_pton(AF_INET6, text.c_str(), &v6) != 1)
        return "";
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
        std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
        return inet_ntop(AF_INET, &v4, out, sizeof out) ? out : "";
    }
    return inet_ntop(AF_INET6, &v6, out, sizeof out) ? out : "";
}

std::string peer_ip(int fd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return "";
    char text[INET6_ADDRSTRLEN] = "";
    if (a.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, text, sizeof text);
    else if (a.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, text,
                  sizeof text);
    return canonical_ip(text);
}

}  // namespace prefork
