// listen.h: the FastCGI listening socket: inherited on fd 0 from spawn-fcgi, or bound here.
#pragma once
#include <string>

namespace core {

// True when fd is a listening socket (spawn-fcgi hands one over on fd 0).
bool is_listening_socket(int fd);

// Binds "unix:/path", "/path" or "host:port" (backlog 1024; a unix socket gets mode 0666 so
// nginx can connect; a stale socket file is replaced). Throws ConfigError with the reason.
int listen_on(const std::string& spec);

}  // namespace core
