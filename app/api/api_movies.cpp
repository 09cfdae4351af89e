// api_movies.cpp: the movies API. Reads are open to visitors; writes need editor.
#include "app/api/account.h"
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/model/db.h"
#include "app/model/movie.h"

namespace api {
namespace {

const auto lg = core::logger("api.movies");

struct MovieInput {
    std::optional<std::string> title, director;
};

// A client may send back a movie it read: the fields the server sets itself are ignored.
MovieInput read_movie(const core::Request& req)
{
    const auto& in = req.json_object();
    only_fields(in.keys(), {"title", "director", "id", "created", "creator", "modified"});
    MovieInput m{line_field(in, "title", kMaxTitle), line_field(in, "director", kMaxTitle)};
    if (m.title && m.title->empty())
        throw core::BadRequest("title must not be empty");
    return m;
}

core::Reply committed(model::Tx& tx, int status, const model::Movie& m, const char* what)
{
    tx.commit();
    LOG4CPLUS_INFO(lg, "movie " << what << " id=" << m.id);
    return core::json_reply(status, m);
}

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
    check_line("search", q.search, kMaxTitle);
    q.creator = req.query("creator").value_or("");
    if (!q.creator.empty() && !model::is_uuid(q.creator))
        throw core::BadRequest("creator must be a user id");
    model::Tx tx{model::Tx::read};  // one read: no BEGIN/COMMIT round trips
    return core::json_reply(200, model::Movie::query(tx, q));
}

core::Reply movie_get(core::Request& req)
{
    const auto id = movie_id(req);
    model::Tx tx{model::Tx::read};
    return core::json_reply(200, model::Movie::get(tx, id));
}

core::Reply movie_create(core::Request& req)
{
    const auto in = read_movie(req);
    if (!in.title)
        throw core::BadRequest("missing field: title");
    model::Movie m;
    m.title = *in.title;
    m.director = in.director.value_or("");
    m.creator = get_myself(req).id;  // read first: the caller's account may be gone
    model::Tx tx;
    m.insert(tx);
    return committed(tx, 201, m, "created");
}

core::Reply movie_update(core::Request& req)
{
    const auto id = movie_id(req);
    const auto in = read_movie(req);
    model::Tx tx;
    auto m = model::Movie::get(tx, id);
    m.title = in.title.value_or(m.title);
    m.director = in.director.value_or(m.director);
    m.update(tx);
    return committed(tx, 200, m, "updated");
}

core::Reply movie_delete(core::Request& req)
{
    const auto id = movie_id(req);
    model::Tx tx;
    const auto m = model::Movie::remove(tx, id);
    return committed(tx, 200, m, "deleted");
}

}  // namespace

void add_movie_routes(core::Router& r)
{
    using core::Role;
    r.add("GET", "/api/movies/", Role::visitor, movie_query,
          "List movies ordered by id. Query: page (1-based), limit (default 1000), search (in "
          "title or director), creator (user id).");
    r.add("GET", "/api/movies/{id}", Role::visitor, movie_get, "Get one movie by id.");
    r.add("POST", "/api/movies/", Role::editor, movie_create,
          "Create a movie from {title, director?}; replies 201 with it. The creator is the caller.");
    r.add("PUT", "/api/movies/{id}", Role::editor, movie_update,
          "Update the title and/or director of a movie; replies with the movie.");
    r.add("DELETE", "/api/movies/{id}", Role::editor, movie_delete,
          "Delete a movie; replies with the deleted movie.");
}

}  // namespace api
