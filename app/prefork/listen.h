// listen.h: binding and connecting the server's sockets (FastCGI, stats, metrics) and the small
// socket helpers the stats view uses. Which socket the server serves on (a reload's, spawn-fcgi's
// fd 0, or one bound here) is reload.h's server_socket: reload builds on listen, not the reverse.
#pragma once
#include <string>
#include <vector>

namespace prefork {

// True when fd is a listening socket (spawn-fcgi hands one over on fd 0).
bool is_listening_socket(int fd);

// Binds "unix:/path", "/path" or "host:port" (backlog 1024; a unix socket gets `mode`, 0666 by
// default so nginx can connect; a stale socket file is replaced). Close-on-exec. Throws
// ConfigError with the reason.
int listen_on(const std::string& spec, unsigned mode = 0666);

// Connects to such an address; throws ConfigError with the reason.
int connect_to(const std::string& spec);

// The file of a "unix:/path" or "/path" address, "" for host:port.
std::string unix_socket_path(const std::string& spec);

// True for a unix socket or an address on the loopback interface (127.0.0.0/8, ::1, localhost).
bool is_local_address(const std::string& spec);

// An IPv4 or IPv6 address in its canonical text ("10.0.0.5", "fd00::5"); an IPv4-mapped IPv6
// address ("::ffff:10.0.0.5", how a socket bound to :: sees an IPv4 peer) as its IPv4 form;
// "" when text is no address.
std::string canonical_ip(const std::string& text);

// The canonical address of a TCP socket's peer; "" for a unix socket or when it cannot be told.
std::string peer_ip(int fd);

}  // namespace prefork
