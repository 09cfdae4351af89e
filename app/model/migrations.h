// migrations.h: applies migrations/NNN_name.sql in name order, one transaction per file, records
// them in schema_migrations, rolls the last one back with NNN_name.down.sql, reports status.
// Runs are serialized by a session-level advisory lock: a second run waits, then finds the work
// done. Caveat: a file must not contain its own BEGIN/COMMIT, or it is no longer all-or-nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/model/db.h"

namespace model {

struct MigrationState {
    std::string name;  // file name, e.g. "001_users.sql"
    bool applied = false;
    std::string applied_at;     // ISO 8601 UTC, when applied
    bool file_missing = false;  // recorded as applied, but no longer in the directory
};

class Migrator {
public:
    // pg_advisory_lock key shared by every migrate run on a database ("rstpmigr" in ASCII).
    static constexpr std::int64_t kLockKey = 0x727374706d696772;

    // dir: the migrations folder, relative to the working directory unless absolute.
    Migrator(Connection& c, std::string dir);

    // The up files (*.sql, not *.down.sql) in name order. Throws if dir is not a directory.
    std::vector<std::string> files() const;

    // Every file and every recorded migration, in name order. Takes no lock and writes nothing.
    std::vector<MigrationState> status();

    // Applies the pending files in order, each with its record in one transaction, and returns
    // their names. Stops at the first failure with std::runtime_error naming the file; that
    // file leaves nothing behind, the ones before it stay applied. progress (if given) gets a
    // line per applied file as it happens.
    std::vector<std::string> up(std::ostream* progress = nullptr);

    // Rolls back the last applied migration (highest name) with its .down.sql in one
    // transaction and returns its name; nullopt when nothing is applied. Throws
    // std::runtime_error when the down file is missing or fails.
    std::optional<std::string> down();

private:
    Connection& c_;
    std::string dir_;
};

// The migrate command line's verbs: "up", "status" or "down", writing a readable report to out.
// Throws std::invalid_argument for an unknown verb, and whatever the Migrator throws.
void run_migrate(Connection& c, const std::string& dir, const std::string& command,
                 std::ostream& out);

}  // namespace model
