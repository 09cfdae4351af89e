// red.cpp: the hiredis wrapper: one lazily opened connection per process, dropped when it dies so
// the next call reconnects; every C result is turned into a value or an exception right here.
#include "app/red/red.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <unordered_map>

#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/core/log.h"
#include "app/red/red_settings.h"

namespace red {
namespace {

const auto lg = core::logger("red");

struct FreeReply {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RawReply = std::unique_ptr<redisReply, FreeReply>;

struct Connection {
    std::unique_ptr<redisContext, void (*)(redisContext*)> ctx{nullptr, redisFree};
    pid_t pid = 0;     // the process that opened ctx
    std::string host;  // set_endpoint override; empty: the config
    int port = 0;
    bool down = false;   // log an outage once, not on every failing call
    std::string master;  // with Sentinels: the master last connected to, "host:port"
    // ... and the Sentinel that named it, asked again at most once a second whether the master
    // moved: a master demoted by a failover keeps taking writes (lost then) until the Sentinels
    // reconfigure it, which takes them about 10 s.
    std::unique_ptr<redisContext, void (*)(redisContext*)> sentinel{nullptr, redisFree};
    std::chrono::steady_clock::time_point checked;
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
    throw Unavailable("redis unavailable: " + why);
}

// The socket's read/write timeout: a command slower than this counts as a dead Redis.
void set_timeout(redisContext* c, std::int64_t ms)
{
    if (redisSetTimeout(c, to_timeval(ms)) != REDIS_OK)
        fail(std::string("cannot set the timeout: ") + c->errstr);
}

std::string text(const redisReply* r)
{
    return std::string(r->str, r->len);
}

// hiredis's reply as our own value, so no hiredis type leaves this file.
Reply to_reply(const redisReply* r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING: return Reply(Reply::Kind::string, text(r));
    case REDIS_REPLY_STATUS: return Reply(Reply::Kind::status, text(r));
    case REDIS_REPLY_INTEGER: return Reply(static_cast<std::int64_t>(r->integer));
    case REDIS_REPLY_ARRAY: {
        std::vector<Reply> elements;
        elements.reserve(r->elements);
        for (size_t i = 0; i < r->elements; ++i)
            elements.push_back(to_reply(r->element[i]));
        return Reply(std::move(elements));
    }
    default:  // nil; errors were thrown before
        return Reply();
    }
}

[[noreturn]] void unexpected(const char* expected)
{
    throw ReplyError(std::string("redis: unexpected reply where ") + expected + " was expected");
}

bool alive()
{
    return conn.ctx && conn.pid == getpid();
}

// Queues one command on c, its arguments binary-safe; false when c failed.
bool append(redisContext* c, const std::vector<std::string>& args)
{
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) ==
           REDIS_OK;
}

// One command on context c, for connecting (AUTH, ROLE, SENTINEL): nullptr when c failed.
RawReply call(redisContext* c, const std::vector<std::string>& args)
{
    void* r = nullptr;
    if (append(c, args))
        redisGetReply(c, &r);  // r stays null when c failed
    return RawReply{static_cast<redisReply*>(r)};
}

// A new context for host (a path: a unix socket) and port with our timeouts, AUTHed when
// password is given; "" when it is ready, else why not (then ctx may be null).
std::string open_context(std::unique_ptr<redisContext, void (*)(redisContext*)>& ctx,
                         const std::string& host, int port, const std::string& password)
{
    const auto& cfg = core::settings<RedisSettings>();
    const bool unix_socket = !host.empty() && host[0] == '/';
    const auto timeout = to_timeval(cfg.connect_timeout_ms);
    ctx.reset(unix_socket ? redisConnectUnixWithTimeout(host.c_str(), timeout)
                          : redisConnectWithTimeout(host.c_str(), port, timeout));
    if (!ctx)
        return "cannot allocate a context";
    if (ctx->err || redisSetTimeout(ctx.get(), to_timeval(cfg.timeout_ms)) != REDIS_OK)
        return ctx->errstr;
    if (password.empty())
        return "";
    const auto r = call(ctx.get(), {"AUTH", password});
    if (!r)
        return std::string("AUTH: ") + ctx->errstr;
    // A wrong password is an outage, not a bug.
    return r->type == REDIS_REPLY_ERROR ? "AUTH: " + text(r.get()) : "";
}

// The master the Sentinels name now (asked in turn until one answers, and checked with ROLE: a
// Sentinel may not have seen a failover yet), connected into conn.ctx; fails with the reasons.
std::string connect_master(const RedisSettings& cfg)
{
    std::string why;
    for (const auto& [sentinel_host, sentinel_port] : cfg.sentinels) {
        const auto sentinel = sentinel_host + ":" + std::to_string(sentinel_port);
        std::unique_ptr<redisContext, void (*)(redisContext*)> s{nullptr, redisFree};
        auto err = open_context(s, sentinel_host, sentinel_port, "");
        RawReply r;
        if (err.empty() &&
            !(r = call(s.get(), {"SENTINEL", "get-master-addr-by-name", cfg.master_name})))
            err = s->errstr;
        else if (err.empty() && r->type == REDIS_REPLY_ERROR)
            err = text(r.get());  // e.g. NOAUTH: a Sentinel with a password of its own
        else if (err.empty() && (r->type != REDIS_REPLY_ARRAY || r->elements != 2))
            err = "no master named " + cfg.master_name;
        if (!err.empty()) {
            why += "; sentinel " + sentinel + ": " + err;
            continue;
        }
        const auto host = text(r->element[0]);
        const auto where = host + ":" + text(r->element[1]);
        err = open_context(conn.ctx, host, std::atoi(r->element[1]->str), cfg.password);
        RawReply role;
        if (err.empty() && !(role = call(conn.ctx.get(), {"ROLE"})))
            err = conn.ctx->errstr;
        else if (err.empty() && (role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
                                 text(role->element[0]) != "master"))
            err = "not a master (yet)";
        if (err.empty()) {
            conn.sentinel = std::move(s);
            conn.checked = std::chrono::steady_clock::now();
            if (where != conn.master)
                LOG4CPLUS_INFO(lg, "redis master " << cfg.master_name << " is " << where
                                                   << " (sentinel " << sentinel << ")");
            conn.master = where;
            return where;
        }
        why += "; master " + where + " from sentinel " + sentinel + ": " + err;
    }
    // The addresses and reasons go to the log (once per outage), not to the client.
    if (!conn.down)
        LOG4CPLUS_WARN(lg, "no redis master " << cfg.master_name << " reachable" << why);
    fail("no master " + cfg.master_name + " from the Sentinels");
}

// With Sentinels, at most once a second: true when the Sentinel that named the master now names
// another. A Sentinel that does not answer is dropped and changes nothing: the next connect asks
// them all.
bool master_moved(const RedisSettings& cfg)
{
    const auto now = std::chrono::steady_clock::now();
    if (!conn.sentinel || now - conn.checked < std::chrono::seconds(1))
        return false;
    conn.checked = now;
    const auto r =
        call(conn.sentinel.get(), {"SENTINEL", "get-master-addr-by-name", cfg.master_name});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        conn.sentinel.reset();
        return false;
    }
    const auto where = text(r->element[0]) + ":" + text(r->element[1]);
    if (where == conn.master)
        return false;
    LOG4CPLUS_WARN(lg, "redis master " << cfg.master_name << " moved from " << conn.master << " to "
                                       << where << ": reconnecting");
    return true;
}

redisContext* connect()
{
    const auto& cfg = core::settings<RedisSettings>();
    const bool sentinels = conn.host.empty() && !cfg.sentinels.empty();
    if (alive() && !(sentinels && master_moved(cfg)))
        return conn.ctx.get();
    // A context inherited across fork shares its socket with the parent: close our copy only.
    conn.ctx.reset();
    conn.pid = getpid();
    std::string where;
    if (sentinels) {
        where = connect_master(cfg);
    } else {
        const std::string host = conn.host.empty() ? cfg.host : conn.host;
        const int port = conn.host.empty() ? cfg.port : conn.port;
        // A host that is a path names a unix socket: cheaper than TCP when Redis is on this
        // machine.
        where = !host.empty() && host[0] == '/' ? host : host + ":" + std::to_string(port);
        const auto err = open_context(conn.ctx, host, port, cfg.password);
        if (!err.empty())
            fail(where + ": " + err);
    }
    if (conn.down)
        LOG4CPLUS_INFO(lg, "redis is back at " << where);
    conn.down = false;
    return conn.ctx.get();
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

// The first READONLY error among replies (a write sent to a master that was demoted), or "".
std::string demoted(const std::vector<RawReply>& replies)
{
    for (const auto& r : replies)
        if (const auto* e = first_error(r.get()); e && text(e).rfind("READONLY", 0) == 0)
            return text(e);
    return "";
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

        for (size_t i = 0; i < n; ++i)
            if (!append(c, cmds[i]))
                fail(std::string("cannot queue a command: ") + c->errstr);

        std::vector<RawReply> replies;
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
            if (const auto why = demoted(replies); !why.empty()) {
                // A failover made this node a replica: it refused every write (and a MULTI it
                // aborted whole), so what ran were reads; the Sentinels name the new master.
                conn.ctx.reset();
                if (reused) {
                    LOG4CPLUS_WARN(lg, "redis node is a replica now (" << why << "), reconnecting");
                    continue;
                }
                fail("the node is a replica: " + why);
            }
            std::vector<Reply> out;
            out.reserve(n);
            for (const auto& r : replies) {
                if (const auto* e = first_error(r.get()))
                    throw ReplyError("redis: " + text(e));
                out.push_back(to_reply(r.get()));
            }
            return out;
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

// The module promises JSON to its readers; a raw string here is a caller's bug (red.py used to
// serialize for them), so it fails loudly instead of surfacing later as a parse error elsewhere.
void require_json(const std::string& json, const std::string& key)
{
    if (!core::is_valid_json(json))
        throw std::invalid_argument("red: the value for " + key + " is not valid JSON");
}

}  // namespace

std::optional<std::string> Reply::string() const
{
    if (kind_ == Kind::nil)
        return std::nullopt;
    if (kind_ != Kind::string)
        unexpected("a string");
    return text_;
}

std::string Reply::status() const
{
    if (kind_ != Kind::status)
        unexpected("a status");
    return text_;
}

std::int64_t Reply::integer() const
{
    if (kind_ != Kind::integer)
        unexpected("an integer");
    return integer_;
}

const std::vector<Reply>& Reply::elements() const
{
    if (kind_ != Kind::array)
        unexpected("an array");
    return elements_;
}

std::vector<std::string> Reply::strings() const
{
    std::vector<std::string> out;
    out.reserve(elements().size());
    for (const auto& e : elements_) {
        if (e.kind_ != Kind::string)
            unexpected("an array of strings");
        out.push_back(e.text_);
    }
    return out;
}

std::vector<std::int64_t> Reply::integers() const
{
    std::vector<std::int64_t> out;
    out.reserve(elements().size());
    for (const auto& e : elements_)
        out.push_back(e.integer());
    return out;
}

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

void reset_connection()
{
    conn.ctx.reset();
    conn.sentinel.reset();
}

void set_endpoint(const std::string& host, int port)
{
    conn.host = host;
    conn.port = port;
    reset_connection();
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
    return command({"GET", key}).string();
}

bool delete_key(const std::string& key)
{
    return command({"DEL", key}).integer() > 0;
}

bool expire(const std::string& key, int seconds)
{
    return command({"EXPIRE", key, std::to_string(seconds)}).integer() == 1;
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
        return command({"LPOP", name}).string();
    const std::vector<std::string> args{"BLPOP", name, std::to_string(timeout_seconds)};
    const auto r = std::move(run(&args, 1, timeout_seconds * 1000LL).front());
    if (r.is_nil())  // timed out
        return std::nullopt;
    if (r.elements().size() != 2)
        unexpected("[list, item] from BLPOP");
    return r.elements()[1].string();
}

std::optional<std::string> list_peek(const std::string& name)
{
    return command({"LINDEX", name, "0"}).string();
}

std::vector<std::string> list_fetch(const std::string& name)
{
    return command({"LRANGE", name, "0", "-1"}).strings();
}

std::int64_t list_length(const std::string& name)
{
    return command({"LLEN", name}).integer();
}

std::int64_t incr(const std::string& key, std::int64_t by)
{
    return command({"INCRBY", key, std::to_string(by)}).integer();
}

std::optional<std::string> get_set(const std::string& key, const std::string& json,
                                   int expire_seconds)
{
    require_json(json, key);
    // GETSET rather than SET ... GET, which needs Redis 6.2 (Ubuntu 22.04 ships 6.0); like SET,
    // it clears an earlier expiry.
    if (expire_seconds <= 0)
        return command({"GETSET", key, json}).string();
    const auto replies = pipeline({{"MULTI"},
                                   {"GETSET", key, json},
                                   {"EXPIRE", key, std::to_string(expire_seconds)},
                                   {"EXEC"}});
    const auto& exec = replies.back().elements();
    if (exec.size() != 2)
        unexpected("two replies from EXEC");
    return exec[0].string();
}

Reply eval(const std::string& script, const std::vector<std::string>& keys,
           const std::vector<std::string>& args)
{
    static std::unordered_map<std::string, std::string> shas;  // script text -> its SHA1
    auto load = [&] {
        const auto sha = command({"SCRIPT", "LOAD", script}).string();
        if (!sha)
            unexpected("a SHA1 from SCRIPT LOAD");
        return shas[script] = *sha;
    };
    auto it = shas.find(script);
    std::vector<std::string> cmd{"EVALSHA", it == shas.end() ? load() : it->second,
                                 std::to_string(keys.size())};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    try {
        return command(cmd);
    } catch (const ReplyError& e) {
        if (std::string(e.what()).find("NOSCRIPT") == std::string::npos)
            throw;
        cmd[1] = load();  // Redis restarted (or SCRIPT FLUSH): its cache is empty
        return command(cmd);
    }
}

}  // namespace red
