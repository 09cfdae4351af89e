// review.h: the reviews table. Ids are serial integers in the database and strings in JSON.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "app/core/json.h"
#include "app/model/db.h"

namespace model {

struct Review {
    std::int64_t id = 0;  // filled in by insert
    std::int64_t movie_id = 0;
    std::string author;   // the user id of its writer
    std::string text;     // may hold line breaks
    std::string created;  // ISO 8601 UTC, e.g. "2026-11-26T20:15:03"

    // id and movie_id (as strings), author, text, created.
    void to_json(core::JsonWriter& w) const;

    // Throws core::NotFound("review <id>").
    static Review get(Tx& tx, std::int64_t id);
    // A movie's reviews, ordered by id.
    static std::vector<Review> for_movie(Tx& tx, std::int64_t movie_id);
    // Reviews written in the last `seconds`.
    static std::int64_t count_since(Tx& tx, std::int64_t seconds);
    // Deletes the row and returns it as it was; throws core::NotFound if there is none.
    static Review remove(Tx& tx, std::int64_t id);

    // Inserts movie_id, author and text; sets id and created.
    void insert(Tx& tx);
};

}  // namespace model
