// migrations.cpp: the schema_migrations bookkeeping behind the migrate binary.
#include "app/model/migrations.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "app/core/log.h"
#include "app/model/sql.h"

namespace fs = std::filesystem;

namespace model {
namespace {

const auto lg = core::logger("migrate");

const char* const kDownSuffix = ".down.sql";

bool ends_with(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_text(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim_end(const std::string& s)
{
    auto end = s.find_last_not_of(" \n\r\t");
    return end == std::string::npos ? std::string() : s.substr(0, end + 1);
}

// Holds the advisory lock for the life of the object. Session-level, so it spans the separate
// transactions of a run, and the server drops it by itself if this process dies.
class SessionLock {
public:
    explicit SessionLock(pqxx::connection_base& c) : c_(c)
    {
        pqxx::nontransaction n(c_);
        // Waiting for another run, and a long migration, must not hit the statement timeout.
        exec(n, "SET statement_timeout = 0");
        exec(n, "SELECT pg_advisory_lock($1)", Migrator::kLockKey);
    }
    ~SessionLock()
    {
        try {
            pqxx::nontransaction n(c_);
            exec(n, "SELECT pg_advisory_unlock($1)", Migrator::kLockKey);
            exec(n, "RESET statement_timeout");  // back to the value from the conninfo
        } catch (const std::exception& e) {
            LOG4CPLUS_WARN(lg, "could not release the migration lock: " << e.what());
        }
    }
    SessionLock(const SessionLock&) = delete;
    SessionLock& operator=(const SessionLock&) = delete;

private:
    pqxx::connection_base& c_;
};

bool table_exists(pqxx::transaction_base& tx)
{
    return exec(tx, "SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>();
}

// name -> applied time, from the table (empty when it does not exist yet).
std::map<std::string, std::string> applied(pqxx::transaction_base& tx)
{
    std::map<std::string, std::string> out;
    if (!table_exists(tx))
        return out;
    auto res = exec(tx, "SELECT name, " MODEL_UTC("applied") " FROM schema_migrations");
    for (const auto& r : res)
        out[r[0].as<std::string>()] = iso_utc(r[1]);
    return out;
}

// Runs a whole file (several statements, so the simple protocol: no parameters) plus its
// bookkeeping statement in one transaction; any error rolls both back.
void run_script(pqxx::connection_base& c, const std::string& file, const std::string& sql,
                const std::string& record_sql, const std::string& name)
{
    pqxx::work tx(c, "migrate");
    try {
        if (core::log_sql())
            detail::log_statement("-- script " + file);
        tx.exec(sql);
    } catch (const pqxx::sql_error& e) {
        throw std::runtime_error(file + " failed, nothing of it applied: " + trim_end(e.what()));
    }
    exec(tx, record_sql, name);
    tx.commit();
}

}  // namespace

Migrator::Migrator(Connection& c, std::string dir) : c_(c), dir_(std::move(dir))
{
}

std::vector<std::string> Migrator::files() const
{
    std::error_code ec;
    if (!fs::is_directory(dir_, ec))
        throw std::runtime_error("migrations directory not found: " + dir_ +
                                 " (working directory " + fs::current_path(ec).string() + ")");
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && ends_with(name, ".sql") && !ends_with(name, kDownSuffix))
            out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<MigrationState> Migrator::status()
{
    const auto names = files();
    std::map<std::string, std::string> done;
    {
        pqxx::read_transaction tx(c_);
        done = applied(tx);
    }
    std::map<std::string, MigrationState> all;
    for (const auto& n : names)
        all[n] = MigrationState{n, false, "", false};
    for (const auto& [n, at] : done) {
        const bool missing = !all.count(n);
        all[n] = MigrationState{n, true, at, missing};
    }
    std::vector<MigrationState> out;
    for (auto& kv : all)
        out.push_back(std::move(kv.second));
    return out;
}

std::vector<std::string> Migrator::up(std::ostream* progress)
{
    const auto names = files();
    SessionLock lock(c_);
    {
        pqxx::work tx(c_);
        exec(tx,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             "name text PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())");
        tx.commit();
    }
    std::map<std::string, std::string> done;
    {
        // Read under the lock, so a run that waited sees what the other one applied.
        pqxx::read_transaction tx(c_);
        done = applied(tx);
    }
    std::vector<std::string> out;
    for (const auto& n : names) {
        if (done.count(n))
            continue;
        run_script(c_, n, read_text(fs::path(dir_) / n),
                   "INSERT INTO schema_migrations (name) VALUES ($1)", n);
        LOG4CPLUS_INFO(lg, "applied migration " << n);
        if (progress)
            *progress << "applied " << n << std::endl;
        out.push_back(n);
    }
    return out;
}

std::optional<std::string> Migrator::down()
{
    SessionLock lock(c_);
    std::string last;
    {
        pqxx::read_transaction tx(c_);
        if (!table_exists(tx))
            return std::nullopt;
        auto res = exec(tx, "SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1");
        if (res.empty())
            return std::nullopt;
        last = res[0][0].as<std::string>();
    }
    const std::string down_name = last.substr(0, last.size() - 4) + kDownSuffix;
    const fs::path down_path = fs::path(dir_) / down_name;
    if (!fs::is_regular_file(down_path))
        throw std::runtime_error("cannot roll back " + last + ": " + down_path.string() +
                                 " does not exist");
    run_script(c_, down_name, read_text(down_path), "DELETE FROM schema_migrations WHERE name = $1",
               last);
    LOG4CPLUS_INFO(lg, "rolled back migration " << last);
    return last;
}

void run_migrate(Connection& c, const std::string& dir, const std::string& command,
                 std::ostream& out)
{
    Migrator m(c, dir);
    if (command == "up") {
        if (m.up(&out).empty())
            out << "nothing to apply: " << m.files().size() << " migration(s), all applied\n";
    } else if (command == "status") {
        for (const auto& s : m.status()) {
            const std::string state = s.applied ? "applied " + s.applied_at + "Z" : "pending";
            out << std::left << std::setw(30) << state << s.name
                << (s.file_missing ? "  (file missing)" : "") << "\n";
        }
    } else if (command == "down") {
        auto name = m.down();
        out << (name ? "rolled back " + *name : std::string("nothing to roll back")) << "\n";
    } else {
        throw std::invalid_argument("unknown command: " + command + " (use up, status or down)");
    }
}

}  // namespace model
