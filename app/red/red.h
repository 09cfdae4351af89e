// red.h: Redis: key/values with optional expiry, capped lists used as queues, counters,
// get-and-set. Values are JSON text that the caller serializes. One connection per process, opened
// on first use (so a master that only forks never holds one) and not thread-safe. hiredis stays
// inside red.cpp: callers get our own values and errors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/core/errors.h"

namespace red {

// What every function below throws:
// - Unavailable "redis unavailable: ..." when Redis is down, unreachable or slower than
//   redis_timeout_ms: a fast 503. The dead connection is dropped; the next call connects afresh.
// - ReplyError "redis: <Redis's message>" on an error reply (e.g. WRONGTYPE), or on a reply of
//   another type than the caller reads it as; the connection stays usable.
// - std::invalid_argument when a value to store is not valid JSON.
struct Unavailable : core::Unavailable {
    using core::Unavailable::Unavailable;
};
struct ReplyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Stores json under key; expire_seconds <= 0 means no expiry (and clears an earlier one).
void set_keyval(const std::string& key, const std::string& json, int expire_seconds = 0);
std::optional<std::string> get_keyval(const std::string& key);  // nullopt: no such key
bool delete_key(const std::string& key);                        // false: there was no such key
// Sets the time to live; false when the key does not exist. seconds <= 0 deletes the key at once.
bool expire(const std::string& key, int seconds);

// Lists are FIFO queues: appended at the tail, popped and peeked at the head (the oldest).
// With max_size > 0 only the newest max_size items are kept (RPUSH + LTRIM in one MULTI/EXEC).
void list_append(const std::string& name, const std::string& json, int max_size = 0);
// Removes and returns the oldest item. timeout_seconds > 0 waits up to that long for one;
// -1 and 0 return at once: 0 does NOT mean "forever", since a worker must never block forever.
std::optional<std::string> list_pop(const std::string& name, int timeout_seconds = -1);
std::optional<std::string> list_peek(const std::string& name);  // the oldest, not removed
std::vector<std::string> list_fetch(const std::string& name);   // all items, oldest first
std::int64_t list_length(const std::string& name);

std::int64_t incr(const std::string& key, std::int64_t by = 1);  // atomic; a missing key is 0
// Atomically stores json and returns the value it replaced (nullopt: none). expire_seconds as in
// set_keyval. E.g. "run once per day in a cluster": get_set("cron:day:job", day) != day.
std::optional<std::string> get_set(const std::string& key, const std::string& json,
                                   int expire_seconds = 0);

// Lower level, for modules that need other commands (sessions, throttling): the same connection
// and error handling. Arguments are binary safe (sent with their lengths, never formatted).

// A reply, read as the type the caller expects: a reply of another type throws ReplyError (error
// replies never get here, they are thrown at once).
class Reply {
public:
    enum class Kind { nil, string, status, integer, array };
    Reply() = default;  // nil
    Reply(Kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}
    explicit Reply(std::int64_t n) : kind_(Kind::integer), integer_(n) {}
    explicit Reply(std::vector<Reply> elements) : kind_(Kind::array), elements_(std::move(elements))
    {
    }

    bool is_nil() const { return kind_ == Kind::nil; }
    std::optional<std::string> string() const;  // a bulk string; nullopt for nil
    std::string status() const;                 // a status reply, e.g. "OK", "PONG"
    std::int64_t integer() const;
    const std::vector<Reply>& elements() const;  // an array (EXEC, BLPOP, a script's table)
    std::vector<std::string> strings() const;    // an array of strings (KEYS, SMEMBERS)
    std::vector<std::int64_t> integers() const;  // an array of integers (a script's counts)

private:
    Kind kind_ = Kind::nil;
    std::string text_;
    std::int64_t integer_ = 0;
    std::vector<Reply> elements_;
};

// Runs one command, e.g. command({"TTL", key}).integer().
Reply command(const std::vector<std::string>& args);

// Runs a Lua script by its SHA1 (EVALSHA), loading it once per script text, and again after a
// Redis restart emptied the script cache: the script's text is not sent with every call. What
// the script returns comes back as Redis converts it: a number as an integer, a table as an array.
Reply eval(const std::string& script, const std::vector<std::string>& keys,
           const std::vector<std::string>& args);
// Sends all commands in one round trip and returns their replies in order. Wrap them in
// MULTI ... EXEC to make them atomic. If any reply (or an element of an EXEC reply) is an error,
// throws the first one after reading all replies.
std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);

void reset_connection();  // drops the connection; the next call opens a new one
// For tests and tools: use host:port instead of the config's redis_host/redis_port (redis_password
// and the timeouts still apply); an empty host goes back to the config. Drops the connection.
void set_endpoint(const std::string& host, int port);

}  // namespace red
