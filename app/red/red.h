// red.h: Redis (hiredis): key/values with optional expiry, capped lists used as queues, counters,
// get-and-set. Values are JSON text that the caller serializes. One connection per process, opened
// on first use (so a master that only forks never holds one) and not thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

namespace red {

// What every function below throws:
// - core::Unavailable "redis unavailable: ..." when Redis is down, unreachable or slower than
//   redis_timeout_ms: a fast 503. The dead connection is dropped; the next call connects afresh.
// - std::runtime_error "redis: <Redis's message>" on an error reply (e.g. WRONGTYPE); the
//   connection stays usable.
// - std::invalid_argument when a value to store is not valid JSON.

// Stores json under key; expire_seconds <= 0 means no expiry (and clears an earlier one).
void set_keyval(const std::string& key, const std::string& json, int expire_seconds = 0);
std::optional<std::string> get_keyval(const std::string& key);  // nullopt: no such key
bool delete_key(const std::string& key);                         // false: there was no such key
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
struct FreeReply {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

// Runs one command, e.g. command({"TTL", key}); never returns null.
Reply command(const std::vector<std::string>& args);

// Runs a Lua script by its SHA1 (EVALSHA), loading it once per script text, and again after a
// Redis restart emptied the script cache: the script's text is not sent with every call.
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
