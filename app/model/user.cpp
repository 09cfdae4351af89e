// user.cpp: explicit SQL for the users table.
#include "app/model/user.h"

#include <algorithm>
#include <cstdint>

#include "app/core/errors.h"
#include "app/model/sql.h"

namespace model {
namespace {

const std::string kColumns =
    "id::text AS id, email, password, first_name, last_name, "
    "role::text AS role, tags, " MODEL_UTC("created") " AS created, " MODEL_UTC(
        "modified") " AS modified";

std::string text_or_empty(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

std::vector<std::string> parse_text_array(const pqxx::field& f)
{
    std::vector<std::string> out;
    if (f.is_null())
        return out;
    auto parser = f.as_array();
    for (auto step = parser.get_next(); step.first != pqxx::array_parser::done;
         step = parser.get_next()) {
        if (step.first == pqxx::array_parser::string_value)
            out.push_back(step.second);
    }
    return out;
}

// A text[] literal with every element quoted, so commas, braces, quotes and the word NULL inside
// a tag stay part of the tag. Passed as a parameter and cast with ::text[].
std::string array_literal(const std::vector<std::string>& items)
{
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0)
            out += ',';
        out += '"';
        for (char ch : items[i]) {
            if (ch == '"' || ch == '\\')
                out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

// Runs an INSERT or UPDATE of a user's row: the unique index on lower(email) is the check that
// holds against a concurrent signup, so its refusal is the caller's EmailTaken.
template <typename... Args>
pqxx::result write_row(Tx& tx, const std::string& email, const std::string& sql, Args&&... args)
{
    try {
        return exec(tx, sql, std::forward<Args>(args)...);
    } catch (const pqxx::unique_violation&) {
        throw EmailTaken(email);
    }
}

User from_row(const pqxx::row& r)
{
    User u;
    u.id = r["id"].as<std::string>();
    u.email = r["email"].as<std::string>();
    u.password = r["password"].as<std::string>();
    u.first_name = text_or_empty(r["first_name"]);
    u.last_name = text_or_empty(r["last_name"]);
    u.role = r["role"].as<std::string>();
    u.tags = parse_text_array(r["tags"]);
    u.created = iso_utc(r["created"]);
    u.modified = iso_utc(r["modified"]);
    return u;
}

}  // namespace

std::string User::fullname() const
{
    std::string s = first_name + " " + last_name;
    const auto b = s.find_first_not_of(' ');
    if (b == std::string::npos)
        return "";
    return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

void User::to_json(core::JsonWriter& w) const
{
    w.StartObject();
    w.Key("id");
    w.String(id);
    w.Key("email");
    w.String(email);
    w.Key("first_name");
    w.String(first_name);
    w.Key("last_name");
    w.String(last_name);
    w.Key("fullname");
    w.String(fullname());
    w.Key("role");
    w.String(role);
    w.Key("tags");
    w.StartArray();
    for (const auto& t : tags)
        w.String(t);
    w.EndArray();
    w.Key("created");
    w.String(created);
    w.Key("modified");
    w.String(modified);
    w.EndObject();
}

User User::get(Tx& tx, const std::string& id)
{
    if (!is_uuid(id))
        throw core::NotFound("user " + id);
    auto res = exec(tx, "SELECT " + kColumns + " FROM users WHERE id = $1::uuid", id);
    if (res.empty())
        throw core::NotFound("user " + id);
    return from_row(res[0]);
}

std::optional<User> User::get_by_email(Tx& tx, const std::string& email)
{
    // lower() on both sides matches the unique index on lower(email).
    auto res = exec(tx, "SELECT " + kColumns + " FROM users WHERE lower(email) = lower($1)", email);
    if (res.empty())
        return std::nullopt;
    return from_row(res[0]);
}

std::vector<User> User::query(Tx& tx, int page, int size, const std::string& search)
{
    const std::int64_t limit = std::max(size, 0);
    const std::int64_t offset = (std::max(page, 1) - 1) * limit;
    auto res =
        exec(tx,
             "SELECT " + kColumns +
                 " FROM users WHERE $1 = '' OR first_name ILIKE $2 "
                 "ESCAPE '\\' OR last_name ILIKE $2 ESCAPE '\\' OR email ILIKE $2 ESCAPE '\\' "
                 "ORDER BY email, id LIMIT $3 OFFSET $4",
             search, like_contains(search), limit, offset);
    std::vector<User> out;
    out.reserve(res.size());
    for (const auto& r : res)
        out.push_back(from_row(r));
    return out;
}

void User::set_role(Tx& tx, const std::string& id, const std::string& role)
{
    if (!is_uuid(id))
        throw core::NotFound("user " + id);
    auto res = exec(tx, "UPDATE users SET role = $2::role, modified = now() WHERE id = $1::uuid",
                    id, role);
    if (res.affected_rows() == 0)
        throw core::NotFound("user " + id);
}

bool User::replace_password_hash(Tx& tx, const std::string& id, const std::string& old_hash,
                                 const std::string& new_hash)
{
    auto res = exec(tx, "UPDATE users SET password = $3 WHERE id = $1::uuid AND password = $2", id,
                    old_hash, new_hash);
    return res.affected_rows() == 1;
}

void User::insert(Tx& tx)
{
    auto res = write_row(
        tx, email,
        "INSERT INTO users (email, password, first_name, last_name, role, tags) "
        "VALUES ($1, $2, $3, $4, $5::role, $6::text[]) RETURNING id::text AS id, " MODEL_UTC(
            "created") " AS created, " MODEL_UTC("modified") " AS modified",
        email, password, first_name, last_name, role, array_literal(tags));
    id = res[0]["id"].as<std::string>();
    created = iso_utc(res[0]["created"]);
    modified = iso_utc(res[0]["modified"]);
}

void User::update(Tx& tx)
{
    if (!is_uuid(id))
        throw core::NotFound("user " + id);
    auto res = write_row(
        tx, email,
        "UPDATE users SET email = $2, password = $3, first_name = $4, last_name = $5, "
        "role = $6::role, tags = $7::text[], modified = now() WHERE id = $1::uuid "
        "RETURNING " MODEL_UTC("created") " AS created, " MODEL_UTC("modified") " AS modified",
        id, email, password, first_name, last_name, role, array_literal(tags));
    if (res.empty())
        throw core::NotFound("user " + id);
    created = iso_utc(res[0]["created"]);
    modified = iso_utc(res[0]["modified"]);
}

}  // namespace model
