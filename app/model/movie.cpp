// movie.cpp: explicit SQL for the movies table.
#include "app/model/movie.h"

#include <algorithm>

#include "app/core/errors.h"
#include "app/model/sql.h"

namespace model {
namespace {

const std::string kColumns = "id, title, director, creator::text AS creator, " MODEL_UTC(
    "created") " AS created, " MODEL_UTC("modified") " AS modified";

Movie from_row(const pqxx::row& r)
{
    Movie m;
    m.id = r["id"].as<std::int64_t>();
    m.title = r["title"].as<std::string>();
    m.director = r["director"].is_null() ? "" : r["director"].as<std::string>();
    m.creator = r["creator"].is_null() ? "" : r["creator"].as<std::string>();
    m.created = iso_utc(r["created"]);
    m.modified = iso_utc(r["modified"]);
    return m;
}

std::string not_found(std::int64_t id)
{
    return "movie " + std::to_string(id);
}

}  // namespace

void Movie::to_json(core::JsonWriter& w) const
{
    w.StartObject();
    // ids go out as strings, so clients never care whether a table uses uuid or serial
    w.Key("id");
    w.String(std::to_string(id));
    w.Key("title");
    w.String(title);
    w.Key("director");
    w.String(director);
    w.Key("creator");
    if (creator.empty())
        w.Null();
    else
        w.String(creator);
    w.Key("created");
    w.String(created);
    w.Key("modified");
    w.String(modified);
    w.EndObject();
}

Movie Movie::get(Tx& tx, std::int64_t id)
{
    // $1::bigint everywhere: an id past the serial's int4 range is then just not found, instead
    // of an out-of-range SQL error; int4 = int8 still uses the primary key index.
    auto res = exec(tx, "SELECT " + kColumns + " FROM movies WHERE id = $1::bigint", id);
    if (res.empty())
        throw core::NotFound(not_found(id));
    return from_row(res[0]);
}

std::vector<Movie> Movie::query(Tx& tx, const MovieQuery& q)
{
    if (!q.creator.empty() && !is_uuid(q.creator))
        return {};  // no user has such an id; never let it reach SQL as a cast error
    const std::int64_t limit = std::max(q.limit, 0);
    const std::int64_t offset = (std::max(q.page, 1) - 1) * limit;
    auto res = exec(tx,
                    "SELECT " + kColumns +
                        " FROM movies "
                        "WHERE ($1 = '' OR title ILIKE $2 ESCAPE '\\' "
                        "OR director ILIKE $2 ESCAPE '\\') "
                        "AND ($3 = '' OR creator = NULLIF($3, '')::uuid) "
                        "ORDER BY id LIMIT $4 OFFSET $5",
                    q.search, like_contains(q.search), q.creator, limit, offset);
    std::vector<Movie> out;
    out.reserve(res.size());
    for (const auto& r : res)
        out.push_back(from_row(r));
    return out;
}

Movie Movie::remove(Tx& tx, std::int64_t id)
{
    auto res = exec(tx, "DELETE FROM movies WHERE id = $1::bigint RETURNING " + kColumns, id);
    if (res.empty())
        throw core::NotFound(not_found(id));
    return from_row(res[0]);
}

void Movie::insert(Tx& tx)
{
    auto res = exec(tx,
                    "INSERT INTO movies (title, director, creator) "
                    "VALUES ($1, $2, NULLIF($3, '')::uuid) RETURNING " +
                        kColumns,  // '' -> NULL
                    title, director, creator);
    *this = from_row(res[0]);
}

void Movie::update(Tx& tx)
{
    auto res = exec(tx,
                    "UPDATE movies SET title = $2, director = $3, modified = now() "
                    "WHERE id = $1::bigint RETURNING " +
                        kColumns,
                    id, title, director);
    if (res.empty())
        throw core::NotFound(not_found(id));
    *this = from_row(res[0]);
}

}  // namespace model
