// db.cpp: the per-process connection. It is opened lazily so that a master that forks never
// holds a socket its children would share; a broken one is dropped and reopened on next use.
// Also where libpqxx's failures become model::Unavailable.
#include "app/model/db.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <unordered_map>

#include "app/core/settings.h"
#include "app/model/sql.h"

namespace model {
namespace {

const auto lg = core::logger("db");
const auto lg_sql = core::logger("sql");

std::unique_ptr<Connection> g_conn;
// Set when a statement found g_conn broken. Dropped at the next db(), not at once: the Tx that
// saw it still holds a transaction on it until the exception has unwound.
bool g_lost = false;

// libpq conninfo value syntax: single quotes, with \ and ' escaped by a backslash.
std::string quoted(const std::string& v)
{
    std::string out = "'";
    for (char ch : v) {
        if (ch == '\\' || ch == '\'')
            out += '\\';
        out += ch;
    }
    return out + "'";
}

// SQLSTATEs that mean this server cannot serve us any more: read_only_sql_transaction (a
// standby, or a primary being demoted), admin/crash shutdown, cannot connect now, and the
// connection exceptions (class 08).
bool server_gone(const std::string& state)
{
    return state == "25006" || state == "57P01" || state == "57P02" || state == "57P03" ||
           state.rfind("08", 0) == 0;
}

std::string trimmed(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

}  // namespace

std::string conninfo(const DbSettings& s, const std::string& extra_options)
{
    std::string ci;
    // An empty host or password means the libpq default (Unix socket, ~/.pgpass), so leave it out.
    if (!s.host.empty())
        ci += "host=" + quoted(s.host) + " ";
    ci += "port=" + quoted(std::to_string(s.port));
    ci += " dbname=" + quoted(s.name);
    ci += " user=" + quoted(s.user);
    if (!s.password.empty())
        ci += " password=" + quoted(s.password);
    ci += " connect_timeout=" + quoted(std::to_string(s.connect_timeout_s));
    // A host that went silent (powered off, cut off: no reset ever comes) is given up after about
    // dead_host_s, so the request gets a 503 and the next one reconnects, instead of waiting on
    // TCP's retries (minutes) until the harakiri: data sent and not acknowledged for that long
    // (tcp_user_timeout), or no answer to keepalive probes while waiting for a reply (a busy
    // server's kernel answers them, so a slow statement is not cut). Unix sockets ignore both.
    const int idle = s.dead_host_s / 2;
    ci += " keepalives=1 keepalives_idle=" + std::to_string(idle) + " keepalives_interval=1" +
          " keepalives_count=" + std::to_string(s.dead_host_s - idle) +
          " tcp_user_timeout=" + std::to_string(s.dead_host_s * 1000);
    // Of several servers (a replicated cluster), the one that takes writes: after a failover a
    // new connection finds the new primary.
    if (s.several_hosts())
        ci += " target_session_attrs=read-write";
    // The server kills a runaway query before the worker's harakiri would kill the worker.
    // DateStyle ISO whatever the server's default: iso_utc() reads times in that form.
    std::string options =
        "-c statement_timeout=" + std::to_string(s.statement_timeout_ms) + " -c datestyle=ISO";
    if (!extra_options.empty())
        options += " " + extra_options;
    ci += " options=" + quoted(options);
    return ci;
}

std::unique_ptr<Connection> connect(const std::string& conninfo)
{
    try {
        auto c = std::make_unique<Connection>(conninfo);
        // 6.x would silently reconnect a broken connection on the next transaction; 7.x won't.
        // We reconnect explicitly (db_reset / db()), so switch the old behaviour off.
        c->inhibit_reactivation(true);
        return c;
    } catch (const pqxx::broken_connection& e) {
        const std::string why = trimmed(e.what());
        LOG4CPLUS_ERROR(lg, "cannot connect to the database: " << why);
        throw Unavailable("database unavailable", why);
    }
}

Connection& db()
{
    if (!g_conn || g_lost || !g_conn->is_open()) {
        db_reset();  // a failed connect below leaves no half-dead object behind
        // application_name: pg_stat_activity then tells which process holds which backend.
        g_conn = connect(conninfo(core::settings<DbSettings>()) +
                         " application_name=" + quoted("restpie " + std::to_string(getpid())));
    }
    return *g_conn;
}

void db_reset()
{
    g_conn.reset();
    g_lost = false;
}

void drop_if_closed()
{
    if (!g_conn)
        return;
    // An idle connection has nothing to read: any byte (the server's FATAL notice) or the end of
    // the stream means it is gone.
    char b;
    const int fd = g_conn->sock();
    const ssize_t n = fd < 0 ? 0 : recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        LOG4CPLUS_WARN(lg, "database connection closed by the server while idle: reconnecting");
        db_reset();
    }
}

Tx::Tx(Mode mode) : Tx(db(), mode)
{
}

Tx::Tx(Connection& c, Mode mode) : impl_(std::make_unique<Impl>())
{
    try {
        if (mode == write)
            impl_->tx = std::make_unique<pqxx::work>(c);  // sends BEGIN
        else
            impl_->tx = std::make_unique<pqxx::nontransaction>(c);
    } catch (const pqxx::failure&) {
        detail::rethrow_db_error(c);
    }
}

Tx::~Tx() = default;  // an open pqxx::work rolls back in its destructor

void Tx::commit()
{
    try {
        impl_->tx->commit();
    } catch (const pqxx::failure&) {
        detail::rethrow_db_error(impl_->tx->conn());
    }
}

std::string iso_utc(const pqxx::field& f)
{
    // "2026-12-02 09:59:32.123456", the year longer past 9999 and " BC" after it before year 1:
    // the date, a T and HH:MM:SS, cut as to_char's 'YYYY-MM-DD"T"HH24:MI:SS' did.
    std::string s(f.c_str(), f.size());
    const auto space = s.find(' ');
    if (space != std::string::npos && s.size() >= space + 9) {
        s[space] = 'T';
        s.resize(space + 9);
    }
    return s;
}

void ping()
{
    Tx tx{Tx::read};
    exec(tx, "SELECT 1");
}

namespace detail {
void log_statement(const std::string& sql)
{
    LOG4CPLUS_INFO(lg_sql, sql);
}

const std::string* prepared_name(pqxx::transaction_base& tx, const std::string& sql)
{
    // Statements are fixed texts with $n parameters, so this cache stays small. libpqxx keeps the
    // definitions per connection and accepts the same definition again, so a new connection
    // after db_reset() gets them on first use.
    static std::unordered_map<std::string, std::string> names;
    auto it = names.find(sql);
    if (it == names.end()) {
        std::string verb;
        for (char ch : sql) {
            if (std::isalpha(static_cast<unsigned char>(ch)))
                verb += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            else if (!verb.empty() || !std::isspace(static_cast<unsigned char>(ch)))
                break;
        }
        const bool preparable = verb == "SELECT" || verb == "INSERT" || verb == "UPDATE" ||
                                verb == "DELETE" || verb == "WITH" || verb == "VALUES";
        char name[24] = "";
        if (preparable)
            std::snprintf(name, sizeof name, "q%016zx", std::hash<std::string>{}(sql));
        it = names.emplace(sql, name).first;
    }
    if (it->second.empty())
        return nullptr;
    tx.conn().prepare(it->second, sql);
    return &it->second;
}

void rethrow_db_error(const pqxx::connection_base& c)
{
    const auto fail = [](const char* message, const std::exception& e, bool retry_read) {
        const std::string why = trimmed(e.what());
        LOG4CPLUS_WARN(lg, message << ": " << why);
        return Unavailable(message, why, retry_read);
    };
    const bool ours = &c == g_conn.get();
    try {
        throw;
    } catch (const pqxx::broken_connection& e) {
        g_lost = g_lost || ours;
        throw fail("database unavailable", e, true);  // nothing ran: a read may run again
    } catch (const pqxx::in_doubt_error& e) {
        g_lost = g_lost || ours;
        throw fail("database connection lost during commit", e, false);
    } catch (const pqxx::sql_error& e) {
        const std::string state = e.sqlstate();
        if (state == "57014")  // statement_timeout: given up before harakiri
            throw fail("database timeout", e, false);
        if (!server_gone(state))
            throw;
        // The server shuts down, or no longer takes writes (a failover demoted it): the
        // statement was refused and the transaction rolls back; the next request reconnects,
        // to the new primary when db_host lists several servers.
        g_lost = g_lost || ours;
        throw fail("database unavailable", e, false);
    }
}
}  // namespace detail

bool retry_read_after_db_error(const std::exception& e)
{
    const auto* u = dynamic_cast<const Unavailable*>(&e);
    return u && u->retry_read;
}

void truncate_all(Tx& tx)
{
    // CASCADE reaches any table added later that references these; schema_migrations does not.
    exec(tx, "TRUNCATE users, movies RESTART IDENTITY CASCADE");
}

bool is_uuid(std::string_view s)
{
    if (s.size() != 36)
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

std::string like_contains(std::string_view s)
{
    std::string out = "%";
    for (char ch : s) {
        if (ch == '%' || ch == '_' || ch == '\\')
            out += '\\';
        out += ch;
    }
    return out + "%";
}

}  // namespace model
