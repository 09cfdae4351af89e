// test_supervisor_parts.cpp: the supervisor's pieces that need no running server: scoreboard
// slots (including a torn one), file watches, the stats JSON, address checks, file hashes, the
// messages to systemd.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include <rapidjson/document.h>

#include "app/prefork/listen.h"
#include "app/prefork/notify.h"
#include "app/prefork/process.h"
#include "app/prefork/reload.h"
#include "app/prefork/scoreboard.h"
#include "app/prefork/stats.h"

namespace {

const std::string kFile = "/tmp/restpie-test-watch-" + std::to_string(getpid());

void set_mtime(const std::string& path, long seconds)
{
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    utimensat(AT_FDCWD, path.c_str(), times, 0);
}

std::string state_of(const prefork::Scoreboard& board, int index)
{
    return prefork::state_name(board.read(index).state);
}

// A datagram socket standing in for systemd's: bound to `name` (a leading '@' makes it abstract),
// with $NOTIFY_SOCKET naming it while it lives.
class FakeNotifySocket {
public:
    explicit FakeNotifySocket(const std::string& name) : name_(name)
    {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        name.copy(a.sun_path, sizeof a.sun_path - 1);
        if (name[0] == '@')
            a.sun_path[0] = '\0';
        else
            unlink(name.c_str());
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
        BOOST_REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0);
        setenv("NOTIFY_SOCKET", name.c_str(), 1);
    }
    ~FakeNotifySocket()
    {
        unsetenv("NOTIFY_SOCKET");
        close(fd_);
        if (name_[0] == '/')
            unlink(name_.c_str());
    }
    // The next message, "" when none came.
    std::string next() const
    {
        char buf[512];
        const ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }

private:
    std::string name_;
    int fd_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(supervisor_parts)

BOOST_AUTO_TEST_CASE(systemd_hears_ready_reloading_stopping_and_status)
{
    for (const std::string& name : {"/tmp/restpie-test-notify-" + std::to_string(getpid()),
                                    "@restpie-test-notify-" + std::to_string(getpid())}) {
        FakeNotifySocket systemd(name);
        prefork::notify_ready("serving");
        BOOST_TEST(systemd.next() == "READY=1\nSTATUS=serving");
        prefork::notify_reloading("");
        BOOST_TEST(systemd.next() == "RELOADING=1");
        prefork::notify_status("4 workers");
        BOOST_TEST(systemd.next() == "STATUS=4 workers");
        prefork::notify_stopping("bye");
        BOOST_TEST(systemd.next() == "STOPPING=1\nSTATUS=bye");
        BOOST_TEST(systemd.next() == "");
    }
    // Without $NOTIFY_SOCKET (not under systemd) nothing is sent and nothing fails.
    prefork::notify_ready("serving");
}

BOOST_AUTO_TEST_CASE(scoreboard_slot_shows_what_the_worker_wrote)
{
    auto board = prefork::Scoreboard::create(2);
    prefork::ScoreWriter writer(board.slot(1));
    BOOST_TEST(state_of(board, 1) == "idle");
    const auto before = prefork::steady_ms();
    writer.busy("POST", "/api/movies/" + std::string(500, 'x'));
    auto v = board.read(1);
    BOOST_TEST(prefork::state_name(v.state) == std::string("busy"));
    BOOST_TEST(v.method == "POST");
    BOOST_TEST(v.path.rfind("/api/movies/xxx", 0) == 0);
    BOOST_TEST(v.path.size() == sizeof(prefork::ScoreSlot::path) - 1);  // cut, still terminated
    BOOST_TEST(v.request_start_ms >= before);
    writer.idle(3);
    v = board.read(1);
    BOOST_TEST(prefork::state_name(v.state) == std::string("idle"));
    BOOST_TEST(v.requests == 3u);
    BOOST_TEST(v.path.empty());
    writer.leaving(prefork::LeaveReason::rss);
    BOOST_TEST(prefork::leave_reason_text(board.read(1).leave_reason) ==
               std::string("went over the memory limit"));
    BOOST_TEST(state_of(board, 0) == "starting");  // untouched
}

BOOST_AUTO_TEST_CASE(a_torn_slot_is_read_anyway_and_reset_by_the_master)
{
    auto board = prefork::Scoreboard::create(1);
    prefork::ScoreWriter writer(board.slot(0));
    writer.busy("GET", "/slow");
    board.slot(0)->seq.fetch_add(1);  // a writer killed mid-write leaves seq odd for good
    const auto v = board.read(0);     // returns, with what is there
    BOOST_TEST(v.path == "/slow");
    board.reset(0);
    BOOST_TEST(board.slot(0)->seq.load() == 0u);
    BOOST_TEST(board.read(0).path.empty());
}

BOOST_AUTO_TEST_CASE(file_watch_sees_a_touch_once_and_waits_for_a_binary_to_settle)
{
    std::ofstream(kFile) << "v1";
    set_mtime(kFile, 1000);
    prefork::FileWatch touch(kFile, false, prefork::file_stamp(kFile));
    prefork::FileWatch binary(kFile, true, prefork::file_stamp(kFile));
    BOOST_TEST(!touch.changed());
    BOOST_TEST(!binary.changed());
    set_mtime(kFile, 2000);
    BOOST_TEST(touch.changed());
    BOOST_TEST(!touch.changed());   // once per change
    BOOST_TEST(!binary.changed());  // first sight: wait a tick
    BOOST_TEST(binary.changed());   // the same again: settled
    std::remove(kFile.c_str());
    BOOST_TEST(!touch.changed());  // a missing file is no reason to reload
    BOOST_TEST(!prefork::FileWatch().changed());
}

BOOST_AUTO_TEST_CASE(stats_json_adds_up_the_workers)
{
    prefork::StatsSnapshot s;
    s.name = "server";
    s.counters.requests_done = 10;
    s.counters.reloads = 2;
    prefork::WorkerStats a, b;
    a.state = "busy";
    a.requests = 3;
    a.request = "GET /x";
    b.state = "idle";
    b.requests = 4;
    s.workers = {a, b};
    rapidjson::Document d;
    d.Parse(prefork::stats_json(s).c_str());
    BOOST_REQUIRE(d.IsObject());
    BOOST_TEST(d["requests"].GetInt() == 17);
    BOOST_TEST(d["busy"].GetInt() == 1);
    BOOST_TEST(d["idle"].GetInt() == 1);
    BOOST_TEST(d["reloads"].GetInt() == 2);
    BOOST_TEST(d["workers"][0]["request"].GetString() == std::string("GET /x"));
}

BOOST_AUTO_TEST_CASE(stats_listen_must_be_local)
{
    BOOST_TEST(prefork::is_local_address("127.0.0.1:9191"));
    BOOST_TEST(prefork::is_local_address("localhost:9191"));
    BOOST_TEST(prefork::is_local_address("unix:/tmp/stats.sock"));
    BOOST_TEST(!prefork::is_local_address("0.0.0.0:9191"));
    BOOST_TEST(!prefork::is_local_address(":9191"));
}

BOOST_AUTO_TEST_CASE(web_server_addresses_compare_in_canonical_form)
{
    BOOST_TEST(prefork::canonical_ip("10.77.0.5") == "10.77.0.5");
    BOOST_TEST(prefork::canonical_ip("::ffff:10.77.0.5") == "10.77.0.5");  // a peer on a :: socket
    BOOST_TEST(prefork::canonical_ip("fd00:0:0::5") == "fd00::5");
    BOOST_TEST(prefork::canonical_ip("web1").empty());
    BOOST_TEST(prefork::canonical_ip("10.77.0.5:80").empty());
    BOOST_TEST(prefork::canonical_ip("").empty());
}

BOOST_AUTO_TEST_CASE(file_hash_tells_binaries_apart)
{
    std::ofstream(kFile) << "binary one";
    const auto one = prefork::file_hash(kFile);
    std::ofstream(kFile, std::ios::app) << "\n";
    BOOST_TEST(one.size() == 16u);
    BOOST_TEST(prefork::file_hash(kFile) != one);
    std::remove(kFile.c_str());
    BOOST_TEST(prefork::file_hash(kFile).empty());
    BOOST_TEST(prefork::describe_status(3 << 8) == "exit code 3");
}

BOOST_AUTO_TEST_SUITE_END()
