// test_fcgi_peers.cpp: fcgi_web_server_addrs on a real server listening on TCP: a FastCGI
// connection from a peer not listed (127.0.0.1) is closed unanswered with a WARN line naming the
// peer and the key; one from the listed web server (127.0.0.2) is served.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support.h"

namespace {

int slot()
{
    const char* s = std::getenv("TEST_SLOT");
    return s && *s ? std::atoi(s) : 0;
}

// A FastCGI record: version 1, request id 1, no padding.
std::string record(unsigned char type, const std::string& content)
{
    const auto n = content.size();
    std::string r{
        1, static_cast<char>(type), 0, 1, static_cast<char>(n >> 8), static_cast<char>(n & 0xff), 0,
        0};
    return r + content;
}

// One request for GET `path`: BEGIN_REQUEST (responder), PARAMS, empty PARAMS, empty STDIN.
std::string fcgi_get(const std::string& path)
{
    std::string params;
    for (const auto& [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"REQUEST_METHOD", "GET"},
                                                          {"DOCUMENT_URI", path},
                                                          {"REQUEST_URI", path},
                                                          {"REMOTE_ADDR", "127.0.0.2"}}) {
        params += static_cast<char>(k.size());
        params += static_cast<char>(v.size());
        params += k + v;
    }
    return record(1, std::string{0, 1, 0, 0, 0, 0, 0, 0}) + record(4, params) + record(4, "") +
           record(5, "");
}

// Connects from `from` to 127.0.0.1:port, sends a request, returns all the server sent back
// until it closed the connection or 5 s passed; "connect failed" when it could not connect.
std::string exchange(const std::string& from, int port, const std::string& request)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{}, remote{};
    local.sin_family = remote.sin_family = AF_INET;
    inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    remote.sin_port = htons(static_cast<uint16_t>(port));
    const timeval five{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
        close(fd);
        return "connect failed";
    }
    (void)!write(fd, request.data(), request.size());
    std::string got;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        got.append(buf, static_cast<size_t>(n));
    close(fd);
    return got;
}

// The server binary with TCP FastCGI on `port`, only 127.0.0.2 allowed, one worker, its log
// in `log`; stopped (SIGTERM, then waited for) when the object ends.
struct Server {
    pid_t pid = -1;
    Server(int port, const std::string& log)
    {
        const auto env =
            test::environment_with({{"APP_LISTEN", "127.0.0.1:" + std::to_string(port)},
                                    {"APP_FCGI_WEB_SERVER_ADDRS", "127.0.0.2"},
                                    {"APP_WORKERS", "1"},
                                    {"APP_STATS_LISTEN", ""},
                                    {"APP_METRICS_LISTEN", ""},
                                    {"APP_RELOAD_FILE", ""},
                                    {"APP_LOG_FILE", log}});
        std::vector<char*> envp;
        for (const auto& e : env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        pid = fork();
        if (pid == 0) {
            char* argv[] = {const_cast<char*>(SERVER_BINARY), nullptr};
            execve(SERVER_BINARY, argv, envp.data());
            _exit(127);
        }
    }
    ~Server()
    {
        if (pid <= 0)
            return;
        kill(pid, SIGTERM);
        int status;
        if (!test::poll_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, 20)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fcgi_peers)

BOOST_AUTO_TEST_CASE(only_the_listed_web_server_is_served)
{
    const int port = 8110 + 10 * slot();  // the slot's HTTP port + 9
    const std::string log = "var/failover" + std::to_string(slot()) + "/server.log";
    test::command_output("mkdir -p var/failover" + std::to_string(slot()) + " && : > " + log);
    Server server(port, log);
    const auto request = fcgi_get("/no/such/path");
    std::string served;
    BOOST_TEST_REQUIRE(test::poll_until(
        [&] {
            served = exchange("127.0.0.2", port, request);
            return served.find("Status: 404") != std::string::npos;
        },
        20));
    BOOST_TEST(exchange("127.0.0.1", port, request).empty());  // closed, nothing sent
    const std::string line =
        "refused a FastCGI connection from 127.0.0.1: not in "
        "fcgi_web_server_addrs";
    BOOST_TEST(
        test::poll_until([&] { return test::read_text(log).find(line) != std::string::npos; }, 5),
        test::read_text(log));
    BOOST_TEST(exchange("127.0.0.2", port, request).find("Status: 404") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
