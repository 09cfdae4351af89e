// movie.h: the movies table. Ids are serial integers in the database and strings in JSON.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/core/json.h"
#include "app/model/db.h"

namespace model {

struct MovieQuery {
    int page = 1;         // 1-based; below 1 counts as 1
    int limit = 1000;     // rows per page; below 0 counts as 0
    std::string search;   // case-insensitive substring of title or director, taken literally
    std::string creator;  // exact user id; "" = any. The caller checks the shape (is_uuid).
};

struct Movie {
    std::int64_t id = 0;  // filled in by insert
    std::string title;
    std::string director;  // "" when the column is NULL
    std::string creator;   // user uuid text, "" when none (stored as NULL)
    std::string created;   // ISO 8601 UTC, e.g. "2026-11-26T20:15:03"
    std::string modified;

    // id (as a string, "17"), title, director, creator (null when none), created, modified.
    void to_json(core::JsonWriter& w) const;

    // Throws core::NotFound("movie <id>").
    static Movie get(Tx& tx, std::int64_t id);
    // Ordered by id. A creator that is not a uuid matches nothing.
    static std::vector<Movie> query(Tx& tx, const MovieQuery& q);
    // Deletes the row and returns it as it was; throws core::NotFound if there is none.
    static Movie remove(Tx& tx, std::int64_t id);

    // Inserts title, director, creator ("" -> NULL); sets id, created and modified.
    void insert(Tx& tx);
    // Writes title and director, sets modified = now() (the transaction's start time) and
    // reloads the row. Throws core::NotFound when the row is gone.
    void update(Tx& tx);
};

}  // namespace model
