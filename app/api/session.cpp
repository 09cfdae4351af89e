// session.cpp: the session store. Each request of a logged-in user costs one Redis round trip
// (GET and TTL), and now and then a second one that renews it; login, logout and role changes a
// few more.
#include "app/api/session.h"

#include <algorithm>

#include <rapidjson/document.h>

#include "app/core/cookie.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/core/password.h"
#include "app/core/text.h"
#include "app/red/red.h"

namespace api {
namespace {

const auto lg = core::logger("api.session");
constexpr std::size_t kIdBytes = 32;  // 256 bits from getrandom(2)

// A session is renewed (its time to live, its index's, a remembered session's cookie) once it has
// lived this fraction of its lifetime since the last renewal, not on every request: a request
// then costs Redis a GET and a TTL instead of a script that writes twice. An idle session ends
// between 31/32 of its lifetime and its lifetime after the last request.
constexpr std::int64_t kRenewAfterFraction = 32;

// KEYS[1] the user's index; ARGV[1] the session prefix, ARGV[2] the new role. Rewrites each live
// session with its time to live kept, and drops ids whose session has expired from the index.
const char* const kSetRoleScript = R"(
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. id
  local ttl = redis.call('PTTL', k)
  local v = redis.call('GET', k)
  if v and ttl > 0 then
    local s = cjson.decode(v)
    s.role = ARGV[2]
    redis.call('SET', k, cjson.encode(s), 'PX', ttl)
    n = n + 1
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return n)";

// KEYS[1] the user's index; ARGV[1] the session prefix.
const char* const kEndAllScript = R"(
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', ARGV[1] .. id)
end
redis.call('DEL', KEYS[1])
return n)";

const char* const kSessionPrefix = "session:";
const char* const kIndexPrefix = "user_sessions:";

const SessionSettings& settings()
{
    return core::settings<SessionSettings>();
}

std::int64_t lifetime(bool remember)
{
    return remember ? settings().lifetime_s : settings().short_lifetime_s;
}

bool is_session_id(const std::string& s)
{
    return s.size() == 2 * kIdBytes && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void put_cookie(core::Request& req, const std::string& value)
{
    req.put_cookie(settings().cookie_name, value);
}

std::string session_json(const model::User& u, const core::Request& req, bool remember)
{
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    w.Key("uid");
    w.String(u.id);
    w.Key("role");
    w.String(u.role);
    w.Key("ip");
    w.String(req.client_ip());
    w.Key("agent");
    w.String(client_agent(req));
    w.Key("remember");
    w.Bool(remember);
    w.Key("ttl");
    w.Int64(lifetime(remember));
    w.Key("created");
    w.Int64(static_cast<std::int64_t>(std::time(nullptr)));
    w.EndObject();
    return sb.GetString();
}

std::string member(const rapidjson::Document& d, const char* key)
{
    auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
}

std::int64_t int_member(const rapidjson::Document& d, const char* key)
{
    auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

// Deletes the caller's session from Redis (not the cookie).
void drop(const core::Request& req)
{
    if (req.session.id.empty())
        return;
    red::pipeline({{"DEL", session_key(req.session.id)},
                   {"SREM", user_sessions_key(req.session.user_id), req.session.id}});
}

void expire_cookie(core::Request& req)
{
    put_cookie(req, session_cookie(settings(), "", 0, std::time(nullptr)));
}

int run_on_index(const char* script, const std::string& user_id, const std::string& arg = "")
{
    std::vector<std::string> args{kSessionPrefix};
    if (!arg.empty())
        args.push_back(arg);
    return static_cast<int>(red::eval(script, {user_sessions_key(user_id)}, args).integer());
}

}  // namespace

std::string session_key(const std::string& id)
{
    return kSessionPrefix + id;
}

std::string user_sessions_key(const std::string& user_id)
{
    return kIndexPrefix + user_id;
}

std::string client_agent(const core::Request& req)
{
    return core::printable(req.header("User-Agent").value_or(""), 300);
}

std::vector<core::Key> SessionSettings::keys()
{
    using core::Key;
    constexpr std::int64_t kDay = 86400;
    return {Key::text("session_cookie_name", "session"), Key::flag("session_cookie_secure", true),
            Key::text("session_cookie_domain", ""),
            Key::integer("session_lifetime_s", 30 * kDay, 1, 3650 * kDay),
            Key::integer("session_short_lifetime_s", kDay, 1, 3650 * kDay)};
}

SessionSettings SessionSettings::from(const core::Config& c)
{
    return {c.str("session_cookie_name"),
            c.flag("session_cookie_secure") && !c.flag("local_dev"),  // no TLS locally
            c.str("session_cookie_domain"), c.integer("session_lifetime_s"),
            c.integer("session_short_lifetime_s")};
}

std::string session_cookie(const SessionSettings& s, const std::string& id,
                           std::optional<std::int64_t> max_age, std::time_t now)
{
    core::Cookie k;
    k.name = s.cookie_name;
    k.value = id;
    k.domain = s.cookie_domain;
    k.max_age = max_age;
    k.secure = s.cookie_secure;
    return core::set_cookie_header(k, now);
}

void load_session(core::Request& req)
{
    const auto id = req.cookie(settings().cookie_name);
    if (!id || !is_session_id(*id))
        return;  // no cookie, or one we never made: a visitor, at no cost to Redis
    const auto key = session_key(*id);
    const auto r = red::pipeline({{"GET", key}, {"TTL", key}});
    const auto json = r[0].string();
    if (!json)
        return;  // unknown or expired
    rapidjson::Document d;
    d.Parse(json->data(), json->size());
    const std::int64_t life = d.IsObject() ? int_member(d, "ttl") : 0;
    if (life <= 0 || member(d, "uid").empty()) {
        red::delete_key(key);  // not one of ours: nobody gets in with it
        return;
    }
    req.session.user_id = member(d, "uid");
    req.session.role = member(d, "role");
    req.session.id = *id;
    req.session.fresh =
        member(d, "ip") == req.client_ip() && member(d, "agent") == client_agent(req);
    if (req.session.role == "disabled") {  // the dispatcher refuses the request itself
        drop(req);
        expire_cookie(req);
        return;
    }
    const auto left = r[1].integer();
    if (left > life - life / kRenewAfterFraction)
        return;
    // The index lives as long as the longest session, so it outlives every session in it.
    red::pipeline(
        {{"EXPIRE", key, std::to_string(life)},
         {"EXPIRE", user_sessions_key(req.session.user_id), std::to_string(lifetime(true))}});
    const auto remember = d.FindMember("remember");
    if (remember != d.MemberEnd() && remember->value.IsTrue())
        put_cookie(req, session_cookie(settings(), *id, lifetime(true), std::time(nullptr)));
}

void start_session(core::Request& req, const model::User& user, bool remember)
{
    if (user.role == "disabled")
        throw core::AccountDisabled();
    const auto id = core::random_token(kIdBytes);
    std::vector<std::vector<std::string>> cmds;
    if (!req.session.id.empty()) {  // a new id at every login: a planted id is worth nothing
        cmds.push_back({"DEL", session_key(req.session.id)});
        cmds.push_back({"SREM", user_sessions_key(req.session.user_id), req.session.id});
    }
    cmds.push_back({"SET", session_key(id), session_json(user, req, remember), "EX",
                    std::to_string(lifetime(remember))});
    cmds.push_back({"SADD", user_sessions_key(user.id), id});
    cmds.push_back({"EXPIRE", user_sessions_key(user.id), std::to_string(lifetime(true))});
    red::pipeline(cmds);
    put_cookie(req,
               session_cookie(settings(), id,
                              remember ? std::optional<std::int64_t>(lifetime(true)) : std::nullopt,
                              std::time(nullptr)));
    req.session = core::Session{user.id, user.role, id, true};
    req.myself = user;
    core::set_log_context(user.id, req.client_ip());
}

void end_session(core::Request& req)
{
    drop(req);
    expire_cookie(req);
    req.session = core::Session{};
    req.myself.reset();
}

int set_session_role(const std::string& user_id, const std::string& role)
{
    return run_on_index(kSetRoleScript, user_id, role);
}

int end_user_sessions(const std::string& user_id)
{
    const int n = run_on_index(kEndAllScript, user_id);
    LOG4CPLUS_INFO(lg, "ended " << n << " sessions of user " << user_id);
    return n;
}

}  // namespace api
