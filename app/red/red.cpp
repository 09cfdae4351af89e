// red.cpp: the hiredis wrapper: one lazily opened connection per process, dropped when it dies so
// the next call reconnects; every C result is turned into a value or an exception right here.
#include "app/red/red.h"

#include <cerrno>
#include <stdexcept>
#include <unordered_map>

#include <sys/time.h>
#include <unistd.h>

#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/log.h"
#include "app/red/red_settings.h"

namespace red {
namespace {

const auto lg = core::logger("red");

struct Connection {
    std::unique_ptr<redisContext, void (*)(redisContext*)> ctx{nullptr, redisFree};
    pid_t pid = 0;      // the process that opened ctx
    std::string host;   // set_endpoint override; empty: the config
    int port = 0;
    bool down = false;  // log an outage once, not on every failing call
};
Connection conn;

timeval to_timeval(std::int64_t ms)
{
    return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
}

[[noreturn]] void fail(const std::string& why)
{
    conn.ctx.reset();
    if (!conn.down)
        LOG4CPLUS_WARN(lg, "redis unavailable: " << why);
    conn.down = true;
    throw core::Unavailable("redis unavailable: " + why);
}

// The socket's read/write timeout: a command slower than this counts as a dead Redis.
void set_timeout(redisContext* c, std::int64_t ms)
{
    if (redisSetTimeout(c, to_timeval(ms)) != REDIS_OK)
        fail(std::string("cannot set the timeout: ") + c->errstr);
}

std::string text(const redisReply* r) { return std::string(r->str, r->len); }

[[noreturn]] void unexpected(const char* command)
{
    throw std::runtime_error(std::string("redis: unexpected reply to ") + command);
}

bool alive() { return conn.ctx && conn.pid == getpid(); }

redisContext* connect()
{
    if (alive())
        return conn.ctx.get();
    // A context inherited across fork shares its socket with the parent: close our copy only.
    conn.ctx.reset();
    const auto& cfg = core::settings<RedisSettings>();
    const std::string host = conn.host.empty() ? cfg.host : conn.host;
    const int port = conn.host.empty() ? cfg.port : conn.port;
    // A host that is a path names a unix socket: cheaper than TCP when Redis is on this machine.
    const bool unix_socket = !host.empty() && host[0] == '/';
    const auto where = unix_socket ? host : host + ":" + std::to_string(port);
    const auto timeout = to_timeval(cfg.connect_timeout_ms);
    redisContext* c = unix_socket ? redisConnectUnixWithTimeout(host.c_str(), timeout)
                                  : redisConnectWithTimeout(host.c_str(), port, timeout);
    if (!c)
        fail("cannot allocate a context for " + where);
    conn.ctx.reset(c);
    conn.pid = getpid();
    if (c->err)
        fail(where + ": " + c->errstr);
    set_timeout(c, cfg.timeout_ms);

    const auto& password = cfg.password;
    if (!password.empty()) {
        const char* argv[] = {"AUTH", password.c_str()};
        const size_t lens[] = {4, password.size()};
        Reply r{static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens))};
        if (!r)
            fail(where + ": AUTH: " + c->errstr);
        if (r->type == REDIS_REPLY_ERROR)
            fail(where + ": AUTH: " + text(r.get()));  // a wrong password is an outage, not a bug
    }
    if (conn.down)
        LOG4CPLUS_INFO(lg, "redis is back at " << where);
    conn.down = false;
    return c;
}

// An error reply, or an error inside an EXEC reply (a command of the transaction failed).
const redisReply* first_error(const redisReply* r)
{
    if (r->type == REDIS_REPLY_ERROR)
        return r;
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; ++i)
            if (r->element[i] && r->element[i]->type == REDIS_REPLY_ERROR)
                return r->element[i];
    return nullptr;
}

// Sends n commands in one round trip. wait_ms > 0 lengthens the socket timeout for this call
// (a blocking pop), so that waiting on the server is not taken for a dead Redis.
std::vector<Reply> run(const std::vector<std::string>* cmds, size_t n, std::int64_t wait_ms = 0)
{
    for (;;) {
        const bool reused = alive();  // only a reused connection is retried: two rounds at most
        redisContext* c = connect();
        if (wait_ms > 0)
            set_timeout(c, core::settings<RedisSettings>().timeout_ms + wait_ms);

        std::vector<const char*> argv;
        std::vector<size_t> lens;
        for (size_t i = 0; i < n; ++i) {
            argv.clear();
            lens.clear();
            for (const auto& a : cmds[i]) {
                argv.push_back(a.data());
                lens.push_back(a.size());
            }
            if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())
                != REDIS_OK)
                fail(std::string("cannot queue a command: ") + c->errstr);
        }

        std::vector<Reply> replies;
        replies.reserve(n);
        while (replies.size() < n) {
            void* r = nullptr;
            errno = 0;
            if (redisGetReply(c, &r) != REDIS_OK || !r)
                break;
            replies.emplace_back(static_cast<redisReply*>(r));
        }
        if (replies.size() == n) {
            if (wait_ms > 0)
                set_timeout(c, core::settings<RedisSettings>().timeout_ms);
            for (const auto& r : replies)
                if (const auto* e = first_error(r.get()))
                    throw std::runtime_error("redis: " + text(e));
            return replies;
        }

        // The context is dead now. If Redis closed a connection that had worked before (it
        // restarted, or dropped an idle client), it did not run these commands, so one retry on
        // a fresh connection is safe (as in redis-py). Not after a timeout: they may have run.
        const bool closed = c->err == REDIS_ERR_EOF ||
                            (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
        const std::string why = errno == EAGAIN || errno == EWOULDBLOCK
                                    ? "no reply in time (" + std::string(c->errstr) + ")"
                                    : c->errstr;
        if (reused && closed && replies.empty()) {
            LOG4CPLUS_WARN(lg, "redis connection lost (" << why << "), reconnecting");
            conn.ctx.reset();
            continue;
        }
        fail(why);
    }
}

std::optional<std::string> string_or_nil(const redisReply* r)
{
    if (r->type == REDIS_REPLY_NIL)
        return std::nullopt;
    if (r->type != REDIS_REPLY_STRING)
        unexpected("a command returning a string");
    return text(r);
}

std::int64_t integer(const Reply& r)
{
    if (r->type != REDIS_REPLY_INTEGER)
        unexpected("a command returning an integer");
    return r->integer;
}

// The module promises JSON to its readers; a raw string here is a caller's bug (red.py used to
// serialize for them), so it fails loudly instead of surfacing later as a parse error elsewhere.
void require_json(const std::string& json, const std::string& key)
{
    if (!core::is_valid_json(json))
        throw std::invalid_argument("red: the value for " + key + " is not valid JSON");
}

}  // namespace

Reply command(const std::vector<std::string>& args)
{
    return std::move(run(&args, 1).front());
}

std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands)
{
    if (commands.empty())
        return {};
    return run(commands.data(), commands.size());
}

void reset_connection() { conn.ctx.reset(); }

void set_endpoint(const std::string& host, int port)
{
    conn.host = host;
    conn.port = port;
    conn.ctx.reset();
}

void set_keyval(const std::string& key, const std::string& json, int expire_seconds)
{
    require_json(json, key);
    if (expire_seconds > 0)
        command({"SET", key, json, "EX", std::to_string(expire_seconds)});
    else
        command({"SET", key, json});
}

std::optional<std::string> get_keyval(const std::string& key)
{
    return string_or_nil(command({"GET", key}).get());
}

bool delete_key(const std::string& key) { return integer(command({"DEL", key})) > 0; }

bool expire(const std::string& key, int seconds)
{
    return integer(command({"EXPIRE", key, std::to_string(seconds)})) == 1;
}

void list_append(const std::string& name, const std::string& json, int max_size)
{
    require_json(json, name);
    if (max_size <= 0) {
        command({"RPUSH", name, json});
        return;
    }
    // In one transaction, so no reader ever sees the list over its size.
    pipeline({{"MULTI"},
              {"RPUSH", name, json},
              {"LTRIM", name, std::to_string(-max_size), "-1"},
              {"EXEC"}});
}

std::optional<std::string> list_pop(const std::string& name, int timeout_seconds)
{
    if (timeout_seconds <= 0)
        return string_or_nil(command({"LPOP", name}).get());
    const std::vector<std::string> args{"BLPOP", name, std::to_string(timeout_seconds)};
    const auto r = std::move(run(&args, 1, timeout_seconds * 1000LL).front());
    if (r->type == REDIS_REPLY_NIL)  // timed out
        return std::nullopt;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        unexpected("BLPOP");
    return text(r->element[1]);
}

std::optional<std::string> list_peek(const std::string& name)
{
    return string_or_nil(command({"LINDEX", name, "0"}).get());
}

std::vector<std::string> list_fetch(const std::string& name)
{
    const auto r = command({"LRANGE", name, "0", "-1"});
    if (r->type != REDIS_REPLY_ARRAY)
        unexpected("LRANGE");
    std::vector<std::string> items;
    items.reserve(r->elements);
    for (size_t i = 0; i < r->elements; ++i)
        items.push_back(text(r->element[i]));
    return items;
}

std::int64_t list_length(const std::string& name) { return integer(command({"LLEN", name})); }

std::int64_t incr(const std::string& key, std::int64_t by)
{
    return integer(command({"INCRBY", key, std::to_string(by)}));
}

std::optional<std::string> get_set(const std::string& key, const std::string& json,
                                   int expire_seconds)
{
    require_json(json, key);
    // GETSET rather than SET ... GET, which needs Redis 6.2 (Ubuntu 22.04 ships 6.0); like SET,
    // it clears an earlier expiry.
    if (expire_seconds <= 0)
        return string_or_nil(command({"GETSET", key, json}).get());
    const auto replies = pipeline({{"MULTI"},
                                   {"GETSET", key, json},
                                   {"EXPIRE", key, std::to_string(expire_seconds)},
                                   {"EXEC"}});
    const redisReply* exec = replies.back().get();
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2)
        unexpected("EXEC");
    return string_or_nil(exec->element[0]);
}

Reply eval(const std::string& script, const std::vector<std::string>& keys,
           const std::vector<std::string>& args)
{
    static std::unordered_map<std::string, std::string> shas;  // script text -> its SHA1
    auto load = [&] {
        const auto r = command({"SCRIPT", "LOAD", script});
        if (r->type != REDIS_REPLY_STRING)
            unexpected("SCRIPT LOAD");
        return shas[script] = text(r.get());
    };
    auto it = shas.find(script);
    std::vector<std::string> cmd{"EVALSHA", it == shas.end() ? load() : it->second,
                                 std::to_string(keys.size())};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    try {
        return command(cmd);
    } catch (const std::runtime_error& e) {
        if (std::string(e.what()).find("NOSCRIPT") == std::string::npos)
            throw;
        cmd[1] = load();  // Redis restarted (or SCRIPT FLUSH): its cache is empty
        return command(cmd);
    }
}

}  // namespace red
