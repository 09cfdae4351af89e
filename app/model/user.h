// user.h: the users table. The password hash lives here but never leaves the server: to_json
// leaves it out.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "app/core/json.h"
#include "app/model/db.h"

namespace model {

struct User {
    std::string id;  // uuid text; filled in by insert
    std::string email;
    std::string password;  // the scrypt hash, never serialized
    std::string first_name;
    std::string last_name;
    std::string role = "readonly";  // the column default; signup sets "editor"
    std::vector<std::string> tags;
    std::string created;  // ISO 8601 UTC, e.g. "2026-11-26T20:15:03"; filled in by insert
    std::string modified;

    // id, email, first_name, last_name, fullname, role, tags, created, modified.
    void to_json(core::JsonWriter& w) const;
    std::string fullname() const;  // "first last", trimmed

    // Throws core::NotFound("user <id>"), also for an id that is not a uuid.
    static User get(Tx& tx, const std::string& id);
    // Case-insensitive match on the email.
    static std::optional<User> get_by_email(Tx& tx, const std::string& email);
    // Page 1-based (below 1 counts as 1), ordered by email. search: case-insensitive substring of
    // first_name, last_name or email, taken literally (% and _ are not wildcards); "" = all.
    static std::vector<User> query(Tx& tx, int page, int size, const std::string& search);
    // Throws core::NotFound when there is no such user. role must be a valid role name.
    static void set_role(Tx& tx, const std::string& id, const std::string& role);
    // Replaces the user's password hash `old_hash` with `new_hash`, leaving `modified` as it is;
    // false when the hash is no longer `old_hash` (changed meanwhile) or the user is gone.
    static bool replace_password_hash(Tx& tx, const std::string& id, const std::string& old_hash,
                                      const std::string& new_hash);

    // Sets id, created and modified. An email already taken (in any case) throws EmailTaken.
    void insert(Tx& tx);
    // Writes email, password, names, role and tags; sets modified. NotFound when the row is gone,
    // EmailTaken when another user has the email.
    void update(Tx& tx);
};

}  // namespace model
