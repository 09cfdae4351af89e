// test_api_promises.cpp: README promises about settings and binaries that no other case checked
// (issue 14): each on the stack or on a server instance of its own (tests/api/instance.h) with the
// one setting it is about, asserting on the reply, the header, the exit code or a log line that
// the test's own request caused.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/api/accounts.h"
#include "tests/api/http.h"
#include "tests/api/instance.h"

using test::Instance;
using test::poll_until;

namespace {

// A marker of this run, in a path or a field, so a log line holding it is this test's own.
std::string marker(const std::string& tag)
{
    return tag + std::to_string(getpid()) + "x" + std::to_string(std::time(nullptr));
}

// `[VAR=value...] program args; echo "exit $?"` with a bound on its time, so a binary that should
// have stopped at start and did not cannot hang the suite.
std::string run(const std::string& command)
{
    return test::command_output("timeout 20 env " + command + "; echo \"exit $?\"");
}

bool has(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

// Polls the instance's log for `what` (the access line is written after the reply).
bool logged(const Instance& inst, const std::string& what, double seconds = 5)
{
    return poll_until([&] { return has(inst.log(), what); }, seconds);
}

// One FastCGI GET over TCP, as nginx would send it to `listen host:port`; the record stream's
// stdout (the CGI headers and body). Every read is under a 5 s timeout.
std::string fastcgi_get(int port, const std::string& uri, const std::string& query)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return "connect failed: " + std::string(std::strerror(errno));
    }
    const auto record = [](int type, const std::string& content) {
        std::string r{1, static_cast<char>(type), 0, 1};  // version, type, request id 1
        r += static_cast<char>(content.size() >> 8);
        r += static_cast<char>(content.size() & 0xff);
        r += std::string{0, 0};  // no padding, reserved
        return r + content;
    };
    std::string params;
    for (const auto& [k, v] : std::map<std::string, std::string>{{"REQUEST_METHOD", "GET"},
                                                                 {"DOCUMENT_URI", uri},
                                                                 {"QUERY_STRING", query},
                                                                 {"REMOTE_ADDR", "127.0.0.1"},
                                                                 {"CONTENT_LENGTH", "0"}})
        params += std::string(1, static_cast<char>(k.size())) +
                  std::string(1, static_cast<char>(v.size())) + k + v;
    const std::string begin{0, 1, 0, 0, 0, 0, 0, 0};  // role responder, no keep-alive
    const std::string out = record(1, begin) + record(4, params) + record(4, "") + record(5, "");
    if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
        close(fd);
        return "write failed";
    }
    std::string in, stdout_text;
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
        in.append(buf, static_cast<std::size_t>(n));
    close(fd);
    for (std::size_t at = 0; at + 8 <= in.size();) {
        const auto type = static_cast<unsigned char>(in[at + 1]);
        const std::size_t len =
            (static_cast<unsigned char>(in[at + 4]) << 8) | static_cast<unsigned char>(in[at + 5]);
        const std::size_t pad = static_cast<unsigned char>(in[at + 6]);
        if (type == 6)  // FCGI_STDOUT
            stdout_text += in.substr(at + 8, len);
        at += 8 + len + pad;
    }
    return stdout_text;
}

// The server instances below that act as a production deployment would (no local development,
// no test mode).
std::map<std::string, std::string> production(std::map<std::string, std::string> more)
{
    more.insert({{"APP_LOCAL_DEV", "false"}, {"APP_TEST_MODE", "false"}, {"APP_WORKERS", "1"}});
    return more;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_promises)

BOOST_AUTO_TEST_CASE(
    config_flag_beats_app_config_and_a_bad_config_stops_each_binary_with_its_message)
{
    const std::string bad = test::stack_run_dir() + "/bad-config.json";
    std::ofstream(bad) << "{\"workers\": ";
    const std::string good = "conf/server-config.json";
    const std::string server = SERVER_BINARY;

    // --config wins over $APP_CONFIG, both ways round.
    const auto flag_good =
        run("APP_CONFIG=" + bad + " " + server + " --config " + good + " --check");
    BOOST_TEST(flag_good.find("server: ok, ") == 0u, flag_good);
    BOOST_TEST(has(flag_good, "exit 0"), flag_good);
    const auto flag_bad =
        run("APP_CONFIG=" + good + " " + server + " --config " + bad + " --check");
    BOOST_TEST(has(flag_bad, "server: " + bad + ": bad JSON at offset"), flag_bad);
    BOOST_TEST(has(flag_bad, "exit 1"), flag_bad);
    // Without the flag, $APP_CONFIG is the file.
    const auto env_bad = run("APP_CONFIG=" + bad + " " + server + " --check");
    BOOST_TEST(has(env_bad, bad + ": bad JSON at offset"), env_bad);
    BOOST_TEST(has(env_bad, "exit 1"), env_bad);

    // Every binary stops at start with the message, before doing anything.
    for (const auto& bin : {server, std::string(SPOOLER_BIN), std::string(CRON_BIN),
                            std::string(MIGRATE_BIN) + " status",
                            std::string(ADMIN_BIN) + " set-role a@b.c editor"}) {
        const auto out = run(bin + " --config " + bad);
        BOOST_TEST(has(out, bad + ": bad JSON at offset"), bin << ": " << out);
        BOOST_TEST(has(out, "exit 1"), bin << ": " << out);
    }
    // So do a bad override and an unknown APP_ key.
    const auto eight = run("APP_WORKERS=eight " + server + " --check");
    BOOST_TEST(has(eight, ": environment APP_WORKERS: expected a number, got 'eight'"), eight);
    BOOST_TEST(has(eight, "exit 1"), eight);
    const auto typo = run("APP_WORKRES=8 " + server + " --check");
    BOOST_TEST(has(typo, "environment APP_WORKRES: no such config key"), typo);
    BOOST_TEST(has(typo, "exit 1"), typo);
    std::filesystem::remove(bad);
}

BOOST_AUTO_TEST_CASE(migrate_and_admin_answer_with_exit_codes_and_messages)
{
    const std::string migrate = MIGRATE_BIN, admin = ADMIN_BIN;
    const auto status = run(migrate + " status");
    BOOST_TEST(has(status, "001_users"), status);
    BOOST_TEST(has(status, "exit 0"), status);
    const auto up = run(migrate);  // the stack is migrated: nothing to do, and no error
    BOOST_TEST(has(up, "exit 0"), up);
    const auto sideways = run(migrate + " sideways");
    BOOST_TEST(has(sideways, "migrate: unexpected argument: sideways"), sideways);
    BOOST_TEST(has(sideways, "exit 1"), sideways);
    const auto nodb = run("APP_DB_HOST=127.0.0.1 APP_DB_PORT=1 " + migrate + " status");
    BOOST_TEST(has(nodb, "migrate: database unavailable: "), nodb);
    BOOST_TEST(has(nodb, "exit 1"), nodb);

    const auto usage = run(admin);
    BOOST_TEST(has(usage, "usage: admin"), usage);
    BOOST_TEST(has(usage, "exit 1"), usage);
    const auto email = test::unique_email("adminbin");
    const auto created = run(admin + " create-user " + email + " - editor </dev/null");
    BOOST_TEST(has(created, "exit 1"), created);  // an empty password breaks the rules
    const auto made = run("echo '" + test::password("adminbin") + "' | " + admin + " create-user " +
                          email + " - editor Ada Admin");
    BOOST_TEST(made.find("created " + email + " (editor): ") == 0u, made);
    BOOST_TEST(has(made, "exit 0"), made);
    const auto promoted = run(admin + " set-role " + email + " admin");
    BOOST_TEST(promoted.find(email + " is now admin; live sessions changed: 0") == 0u, promoted);
    BOOST_TEST(has(promoted, "exit 0"), promoted);
    const auto bad_role = run(admin + " set-role " + email + " emperor");
    BOOST_TEST(bad_role.find("admin: ") == 0u, bad_role);
    BOOST_TEST(has(bad_role, "exit 1"), bad_role);
    const auto nobody = run(admin + " set-role nobody-" + email + " editor");
    BOOST_TEST(nobody.find("admin: ") == 0u, nobody);
    BOOST_TEST(has(nobody, "exit 1"), nobody);
    const auto down =
        run("APP_DB_HOST=127.0.0.1 APP_DB_PORT=1 " + admin + " set-role " + email + " editor");
    BOOST_TEST(has(down, "admin: database unavailable: "), down);
    BOOST_TEST(has(down, "exit 1"), down);
}

BOOST_AUTO_TEST_CASE(a_body_over_max_body_bytes_is_413_over_http)
{
    Instance inst("max_body", {{"APP_MAX_BODY_BYTES", "1000"}, {"APP_WORKERS", "1"}});
    const auto body = [](std::size_t size) {
        const std::string head = R"({"email":"x@example.com","password":")";
        return head + std::string(size - head.size() - 2, 'p') + "\"}";
    };
    const auto over = test::http("POST", Instance::url("/api/login"), body(1001),
                                 {{"Content-Type", "application/json"}});
    BOOST_TEST(over.status == 413);
    BOOST_TEST(over.body == R"({"err":"413: request body too large"})");
    const auto under = test::http("POST", Instance::url("/api/login"), body(1000),
                                  {{"Content-Type", "application/json"}});
    BOOST_TEST(under.status == 400, under.body);  // read and judged: the password is too long
    BOOST_TEST(has(under.body, "password must be at most 200"), under.body);
    // The worker read the whole body and serves on.
    BOOST_TEST(test::status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
}

BOOST_AUTO_TEST_CASE(listen_host_port_serves_fastcgi_on_tcp)
{
    const int port = test::base_port() + 7;  // in this stack's range, as the stats test's +5
    Instance inst("tcp",
                  {{"APP_LISTEN", "127.0.0.1:" + std::to_string(port)}, {"APP_WORKERS", "1"}});
    const auto out = fastcgi_get(port, "/apitest/sleep", "ms=1");
    BOOST_TEST(has(out, R"({"slept_ms":1,"pid":)"), out);
    BOOST_TEST(poll_until([&] { return inst.stats().num("requests") == 1; }, 5));
    BOOST_TEST(logged(inst, "GET /apitest/sleep {\"ms\":\"1\"} -> 200"), inst.log());
}

// worker_batch_scheduling: every worker of a default instance runs under SCHED_BATCH, and under
// the normal policy when it is false (the master keeps the normal one either way).
BOOST_AUTO_TEST_CASE(worker_batch_scheduling_sets_the_workers_policy)
{
    for (const bool batch : {true, false}) {
        std::map<std::string, std::string> env{{"APP_WORKERS", "2"}};
        if (!batch)
            env["APP_WORKER_BATCH_SCHEDULING"] = "false";
        Instance inst(batch ? "sched_batch" : "sched_other", env);
        std::vector<pid_t> pids;
        BOOST_TEST_REQUIRE(poll_until(
            [&] {
                pids = inst.stats().pids();
                return pids.size() == 2;
            },
            10));
        for (const pid_t pid : pids)
            BOOST_TEST(sched_getscheduler(pid) == (batch ? SCHED_BATCH : SCHED_OTHER),
                       "worker " << pid << " batch=" << batch);
        BOOST_TEST(sched_getscheduler(inst.pid()) == SCHED_OTHER);
    }
}

// Every app reply carries its length, so nginx passes it on as it is instead of chunked (one write
// to the client, not two).
BOOST_AUTO_TEST_CASE(replies_carry_content_length_and_are_not_chunked)
{
    for (const char* path : {"/api/list", "/apitest/counter", "/api/nosuchroute"}) {
        const auto r = test::get(path);
        BOOST_TEST(r.headers.count("content-length") == 1, path);
        if (r.headers.count("content-length"))
            BOOST_TEST(r.headers.at("content-length") == std::to_string(r.body.size()), path);
        BOOST_TEST(r.headers.count("transfer-encoding") == 0, path);
    }
}

BOOST_AUTO_TEST_CASE(harakiri_seconds_0_is_off)
{
    Instance inst("harakiri_off", {{"APP_HARAKIRI_SECONDS", "0"}, {"APP_WORKERS", "1"}});
    // Past a whole master tick: a limit of 0 s taken literally would kill it.
    const auto r = test::get(Instance::url("/apitest/sleep?ms=2200"));
    BOOST_TEST(r.status == 200);
    BOOST_TEST(has(r.body, R"("slept_ms":2200)"));
    BOOST_TEST(inst.stats().num("harakiri") == 0);
    BOOST_TEST(!has(inst.log(), "HARAKIRI"));
}

BOOST_AUTO_TEST_CASE(reload_file_empty_is_off)
{
    // The default reload file is RESTART in the working directory: with "" neither it nor any
    // other file is watched. (./RESTART is git-ignored; a dev server of this checkout would only
    // reload gracefully.)
    const bool had_restart = std::filesystem::exists("RESTART");
    Instance inst(
        "reload_off",
        {{"APP_RELOAD_FILE", ""}, {"APP_RELOAD_ON_REBUILD", "false"}, {"APP_WORKERS", "1"}});
    const auto later = std::chrono::system_clock::now() + std::chrono::seconds(5);
    const timespec when{std::chrono::system_clock::to_time_t(later), 0};
    const timespec times[2] = {when, when};
    for (const auto& f : {std::string("RESTART"), inst.reload_file()}) {
        std::ofstream(f, std::ios::app).flush();
        BOOST_REQUIRE(utimensat(AT_FDCWD, f.c_str(), times, 0) == 0);
    }
    // The master looks once a second: three looks see no reload.
    BOOST_TEST(!poll_until([&] { return inst.stats().num("reloads_started") > 0; }, 3.5));
    BOOST_TEST(!has(inst.log(), "touch of"));
    if (!had_restart)
        std::filesystem::remove("RESTART");
    // Reloads as such still work: SIGHUP.
    BOOST_REQUIRE(kill(inst.pid(), SIGHUP) == 0);
    BOOST_TEST(poll_until(
        [&] {
            const auto s = inst.stats();
            return s.num("reloads") == 1 && s.pids(true).empty() && s.num("idle") == 1;
        },
        15));
}

BOOST_AUTO_TEST_CASE(a_respawn_never_runs_a_half_built_binary)
{
    Instance inst("half_built", {{"APP_WORKERS", "1"}, {"APP_RELOAD_ON_REBUILD", "false"}});
    const auto before = inst.stats();
    const std::string whole = test::read_text(inst.binary());
    inst.replace_binary(whole.substr(0, whole.size() / 2));  // a build caught halfway
    const pid_t victim = before.pids().at(0);
    BOOST_REQUIRE(kill(victim, SIGKILL) == 0);
    BOOST_TEST(poll_until(
        [&] {
            const auto s = inst.stats();
            return s.num("respawns") == 1 && s.num("idle") == 1 && !s.pids().empty() &&
                   s.pids().at(0) != victim;
        },
        10));
    BOOST_TEST(test::status_of(Instance::url("/apitest/sleep?ms=1")) == 200);
    const auto s = inst.stats();
    BOOST_TEST(s.num("deaths") == 1);  // the SIGKILL, and no death of the respawned worker
    BOOST_TEST(s.str("build_id") == before.str("build_id"));
    BOOST_TEST(!has(inst.log(), "crash loop"));
    inst.replace_binary(whole);
}

BOOST_AUTO_TEST_CASE(crash_loop_respawn_delay_is_capped_at_30_s)
{
    // 2, 4, 8 and 16 s: the sixth death in a row comes 30 s after the first, and its delay is the
    // cap (the doubling would give 32 s).
    const auto looping = test::crash_looping("crashcap");
    const Instance& inst = *looping;
    const std::string fifth = "5 times in a row: crash loop, respawn in 16 s";
    const std::string sixth = "6 times in a row: crash loop, respawn in 30 s";
    BOOST_TEST(logged(inst, sixth, 50), inst.log());
    BOOST_TEST(has(inst.log(), fifth));
    const auto s = inst.stats();
    BOOST_REQUIRE(s.workers().Size() == 1);
    BOOST_TEST(s.workers()[0]["respawn_in_ms"].GetInt() > 16000);
    BOOST_TEST(s.workers()[0]["respawn_in_ms"].GetInt() <= 30000);
    std::filesystem::remove(test::crash_file("crashcap"));
}

BOOST_AUTO_TEST_CASE(public_url_starts_the_logged_reset_link)
{
    Instance inst("public_url",
                  {{"APP_PUBLIC_URL", "https://public.example.test"}, {"APP_WORKERS", "1"}});
    const auto a = test::make_account("editor", "publicurl");
    const auto t = test::open_form(Instance::url("/auth/forgot"));
    const auto r = test::http("POST", Instance::url("/auth/postform"),
                              "mode=forgot&email=" + a.email + "&csrf_token=" + t.field,
                              {{"Content-Type", "application/x-www-form-urlencoded"},
                               {"Cookie", "csrf_token=" + t.cookie},
                               {"Host", "forged.example.test"}});
    BOOST_TEST(r.status == 200);
    const std::string link =
        "password reset link for " + a.id + ": https://public.example.test/auth/reset?token=";
    BOOST_TEST(logged(inst, link), inst.log());
    BOOST_TEST(!has(inst.log(), "forged.example.test/auth/reset"));
}

BOOST_AUTO_TEST_CASE(log_level_warn_drops_info_and_keeps_the_slow_marker_and_errors)
{
    Instance inst("log_level", {{"APP_LOG_LEVEL", "WARN"}, {"APP_WORKERS", "1"}});
    const auto mark = marker("lvl");
    BOOST_TEST(test::get(Instance::url("/api/movies/?search=" + mark)).status == 200);
    BOOST_TEST(test::get(Instance::url("/apitest/sleep?ms=10")).status == 200);    // not slow
    BOOST_TEST(test::get(Instance::url("/apitest/sleep?ms=1100")).status == 200);  // slow
    BOOST_TEST(test::get(Instance::url("/api/nothing-" + mark)).status == 404);
    // One worker: once the last request's line is there, the ones before it are too.
    BOOST_TEST(logged(inst, "ERROR anon@127.0.0.1 - GET /api/nothing-" + mark + " -> 404"),
               inst.log());
    const auto log = inst.log();
    BOOST_TEST(test::occurrences(log, "SLOW! ") == 1,
               log);  // the 1.1 s request's, not the 10 ms one's
    const auto at = log.find("SLOW! ");
    const auto line =
        at == std::string::npos
            ? ""
            : log.substr(log.rfind('\n', at) + 1, log.find('\n', at) - log.rfind('\n', at));
    BOOST_TEST(has(line, " WARN  "), line);
    BOOST_TEST(has(line, "SLOW! 1.1"), line);
    BOOST_TEST(has(line, " s GET /apitest/sleep\n"), line);
    BOOST_TEST(!has(log, "search"), log);  // the 200 request's INFO line
    BOOST_TEST(!has(log, " INFO  "), log);
}

BOOST_AUTO_TEST_CASE(syslog_gets_the_log_over_udp)
{
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    timeval tv{0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto port = std::to_string(ntohs(a.sin_port));
    std::string got;
    {
        Instance inst("syslog", {{"APP_LOG_SYSLOG_HOST", "127.0.0.1"},
                                 {"APP_LOG_SYSLOG_PORT", port},
                                 {"APP_WORKERS", "1"}});
        const auto mark = marker("sys");
        BOOST_TEST(test::get(Instance::url("/api/nothing-" + mark)).status == 404);
        BOOST_TEST(poll_until(
                       [&] {
                           char buf[8192];
                           const ssize_t n = recv(fd, buf, sizeof buf, 0);
                           if (n > 0)
                               got.append(buf, static_cast<std::size_t>(n)).append("\n");
                           return has(got, "GET /api/nothing-" + mark + " -> 404");
                       },
                       10),
                   got);
        BOOST_TEST(has(inst.log(), "GET /api/nothing-" + mark + " -> 404"));  // and the file too
    }
    close(fd);
}

BOOST_AUTO_TEST_CASE(production_flag_shows_in_api_list)
{
    BOOST_TEST(has(test::get("/api/list").body, "production: off"));
    Instance inst("production_flag", production({{"APP_PRODUCTION", "true"}}));
    const auto list = test::get(Instance::url("/api/list"));
    BOOST_TEST(list.status == 200);
    BOOST_TEST(has(list.body, "production: on"), list.body);
}

BOOST_AUTO_TEST_CASE(cookie_domain_and_secure_go_out_over_http)
{
    Instance inst("cookie", production({{"APP_SESSION_COOKIE_SECURE", "true"},
                                        {"APP_SESSION_COOKIE_DOMAIN", "example.test"}}));
    const auto a = test::make_account("editor", "cookie");
    test::clear_login_throttle(a.email);
    const auto r = test::http("POST", Instance::url("/api/login"),
                              R"({"email":")" + a.email + R"(","password":")" + a.password + "\"}",
                              {{"Content-Type", "application/json"}});
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    const auto c = test::session_cookie(r);
    BOOST_TEST(has(c, "; Domain=example.test"), c);
    BOOST_TEST(has(c, "; Secure"), c);
    BOOST_TEST(has(c, "; HttpOnly"), c);
    // The forms' token cookie is Secure as the session cookie.
    const auto page = test::get(Instance::url("/auth/login"));
    const auto token =
        std::find_if(page.cookies.begin(), page.cookies.end(),
                     [](const std::string& k) { return k.rfind("csrf_token=", 0) == 0; });
    BOOST_REQUIRE(token != page.cookies.end());
    BOOST_TEST(has(*token, "; Secure"), *token);
}

BOOST_AUTO_TEST_CASE(a_configured_cors_list_is_echoed_and_nothing_else)
{
    Instance inst(
        "cors",
        production({{"APP_CORS_ORIGINS", "https://a.example.test,https://b.example.test"}}));
    const auto ask = [](const std::string& origin) {
        return test::http("GET", Instance::url("/apitest/counter"), "", {{"Origin", origin}});
    };
    for (const std::string listed : {"https://a.example.test", "https://b.example.test"}) {
        const auto r = ask(listed);
        BOOST_TEST(r.status == 200);
        BOOST_TEST(r.header("access-control-allow-origin") == listed);
        BOOST_TEST(r.header("access-control-allow-credentials") == "true");
        BOOST_TEST(has(r.header("vary"), "Origin"));
    }
    // Not listed: neither another site nor, outside local development, a localhost page.
    for (const std::string other : {"https://evil.example.test", "http://localhost:3000", "null"}) {
        const auto r = ask(other);
        BOOST_TEST(r.status == 200);
        BOOST_TEST(r.header("access-control-allow-origin") == "", other);
        BOOST_TEST(r.header("access-control-allow-credentials") == "", other);
    }
}

BOOST_AUTO_TEST_CASE(input_limits_password_200_director_500_names_100)
{
    test::clear_login_throttle();
    // Password: 200 characters are judged as a password, 201 are refused as too long.
    const std::string pw200 = "Aa1" + std::string(197, 'p');
    const auto at_limit = test::login(test::unique_email("limits"), pw200);
    BOOST_TEST(at_limit.status == 400);
    BOOST_TEST(at_limit.body == R"({"err":"400: Invalid login credentials"})");
    const auto over = test::login(test::unique_email("limits"), pw200 + "p");
    BOOST_TEST(over.status == 400);
    BOOST_TEST(has(over.body, "400: password must be at most 200 characters"), over.body);

    // Director: 500 characters are stored, 501 refused.
    const auto sid = test::login_id(test::make_account("editor", "limits"));
    const auto movie = [&](std::size_t n) {
        return test::with_session(
            sid, "POST", "/api/movies/",
            R"({"title":"Limits","director":")" + std::string(n, 'd') + "\"}");
    };
    BOOST_TEST(movie(500).status == 201);
    const auto long_director = movie(501);
    BOOST_TEST(long_director.status == 400);
    BOOST_TEST(has(long_director.body, "director must be at most 500 characters"),
               long_director.body);

    // Names: 100 characters (not bytes) sign up, 101 do not.
    std::string hundred;
    for (int i = 0; i < 100; ++i)
        hundred += "\xc3\xa9";  // é: 2 bytes, 1 character
    const auto signup = [&](const std::string& lname) {
        return test::post_json("/api/signup", R"({"email":")" + test::unique_email("limits") +
                                                  R"(","password":")" + test::password("limits") +
                                                  R"(","fname":"Lim","lname":")" + lname + "\"}");
    };
    BOOST_TEST(signup(hundred).status == 201);
    const auto long_name = signup(hundred + "e");
    BOOST_TEST(long_name.status == 400);
    BOOST_TEST(has(long_name.body, "last name must be at most 100"), long_name.body);
    test::clear_login_throttle();
}

BOOST_AUTO_TEST_CASE(database_down_is_a_fast_503_over_http)
{
    Instance nodb("nodb503",
                  {{"APP_DB_HOST", "127.0.0.1"}, {"APP_DB_PORT", "1"}, {"APP_WORKERS", "1"}});
    const auto start = std::chrono::steady_clock::now();
    const auto r = test::get(Instance::url("/api/movies/"));
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(r.status == 503);
    BOOST_TEST(has(r.body, R"({"err":"503: database unavailable)"), r.body);
    BOOST_TEST(took < 5.0);
    // What needs no database goes on.
    BOOST_TEST(test::status_of(Instance::url("/apitest/counter")) == 200);
}

BOOST_AUTO_TEST_SUITE_END()
