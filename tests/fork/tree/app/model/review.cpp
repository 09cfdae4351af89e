// review.cpp: explicit SQL for the reviews table.
#include "app/model/review.h"

#include "app/core/errors.h"
#include "app/model/sql.h"

namespace model {
namespace {

const std::string kColumns =
    "id, movie_id, author::text AS author, text, " MODEL_UTC("created") " AS created";

Review from_row(const pqxx::row& r)
{
    Review v;
    v.id = r["id"].as<std::int64_t>();
    v.movie_id = r["movie_id"].as<std::int64_t>();
    v.author = r["author"].as<std::string>();
    v.text = r["text"].as<std::string>();
    v.created = iso_utc(r["created"]);
    return v;
}

std::vector<Review> rows(const pqxx::result& res)
{
    std::vector<Review> out;
    out.reserve(res.size());
    for (const auto& r : res)
        out.push_back(from_row(r));
    return out;
}

Review the_one(const pqxx::result& res, std::int64_t id)
{
    if (res.empty())
        throw core::NotFound("review " + std::to_string(id));
    return from_row(res[0]);
}

}  // namespace

void Review::to_json(core::JsonWriter& w) const
{
    w.StartObject();
    w.Key("id");
    w.String(std::to_string(id));
    w.Key("movie_id");
    w.String(std::to_string(movie_id));
    w.Key("author");
    w.String(author);
    w.Key("text");
    w.String(text);
    w.Key("created");
    w.String(created);
    w.EndObject();
}

Review Review::get(Tx& tx, std::int64_t id)
{
    return the_one(exec(tx, "SELECT " + kColumns + " FROM reviews WHERE id = $1::bigint", id), id);
}

std::vector<Review> Review::for_movie(Tx& tx, std::int64_t movie_id)
{
    return rows(exec(tx,
                     "SELECT " + kColumns + " FROM reviews WHERE movie_id = $1::bigint ORDER BY id",
                     movie_id));
}

std::int64_t Review::count_since(Tx& tx, std::int64_t seconds)
{
    auto res =
        exec(tx, "SELECT count(*) FROM reviews WHERE created > now() - make_interval(secs => $1)",
             seconds);
    return res[0][0].as<std::int64_t>();
}

Review Review::remove(Tx& tx, std::int64_t id)
{
    return the_one(exec(tx, "DELETE FROM reviews WHERE id = $1::bigint RETURNING " + kColumns, id),
                   id);
}

void Review::insert(Tx& tx)
{
    auto res = exec(tx,
                    "INSERT INTO reviews (movie_id, author, text) VALUES ($1, $2::uuid, $3) "
                    "RETURNING " +
                        kColumns,
                    movie_id, author, text);
    *this = from_row(res[0]);
}

}  // namespace model
