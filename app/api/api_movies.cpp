// api_movies.cpp: the movies API. Reads are open to visitors; writes (next issue) need editor.
#include <pqxx/pqxx>

#include "app/api/routes.h"
#include "app/core/errors.h"
#include "app/model/db.h"
#include "app/model/movie.h"

namespace api {
namespace {

// Ids go out as strings; a path id that is not a positive integer names no movie: 404.
std::int64_t movie_id(const core::Request& req)
{
    const auto& text = req.path_params.at("id");
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
        throw core::NotFound("movie " + text);
    return std::stoll(text);
}

core::Reply movie_query(core::Request& req)
{
    model::MovieQuery q;
    q.page = static_cast<int>(req.query_int("page", 1, 0, 1000000));
    q.limit = static_cast<int>(req.query_int("limit", 1000, 0, 1000));
    q.search = req.query("search").value_or("");
    q.creator = req.query("creator").value_or("");
    if (!q.creator.empty() && !model::is_uuid(q.creator))
        throw core::BadRequest("creator must be a user id");
    pqxx::nontransaction tx{model::db()};  // one read: no BEGIN/COMMIT round trips
    return core::json_reply(200, model::Movie::query(tx, q));
}

core::Reply movie_get(core::Request& req)
{
    const auto id = movie_id(req);
    pqxx::nontransaction tx{model::db()};
    return core::json_reply(200, model::Movie::get(tx, id));
}

}  // namespace

void add_movie_routes(core::Router& r)
{
    using core::Role;
    r.add("GET", "/api/movies/", Role::visitor, movie_query,
          "List movies ordered by id. Query: page (1-based), limit (default 1000), search (in "
          "title or director), creator (user id).");
    r.add("GET", "/api/movies/{id}", Role::visitor, movie_get, "Get one movie by id.");
}

}  // namespace api
