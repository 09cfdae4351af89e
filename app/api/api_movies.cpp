// api_movies.cpp: the movies API. Reads are open to visitors; writes need editor.
#include "app/api/account.h"
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/api/schemas.h"
#include "app/core/errors.h"
#include "app/core/log.h"
#include "app/model/db.h"
#include "app/model/movie.h"

namespace api {
namespace {

const auto lg = core::logger("api.movies");

// A client may send back a movie it read: the fields the server sets itself are ignored.
core::Schema movie_input(const char* name, bool create)
{
    // clang-format off: one member a line, with its limits
    auto s = core::Schema::object(name)
                 .text("title", kMaxTitle)
                 .not_empty()
                 .text("director", kMaxTitle)
                 .ignore({"id", "created", "creator", "modified"});
    // clang-format on
    if (create)
        s.fields.front().required = true;
    return s;
}

const core::Schema kCreate = movie_input("MovieInput", true);
const core::Schema kUpdate = movie_input("MovieUpdate", false);

core::Reply committed(model::Tx& tx, int status, const model::Movie& m, const char* what)
{
    tx.commit();
    LOG4CPLUS_INFO(lg, "movie " << what << " id=" << m.id);
    return core::json_reply(status, m);
}

// A path id that is not a positive integer names no movie: 404 (input.h).
std::int64_t movie_id(const core::Request& req)
{
    return path_id(req, "movie");
}

const auto& kPage = page_param();
const auto kLimit = core::Param::integer("limit", 1000, 0, 1000, "Movies per page");
const auto kSearch =
    core::Param::text("search", kMaxTitle, "A case-insensitive substring of title or director");
const auto kCreator = core::Param::text("creator", 0, "Only the movies of this user id", "uuid");

core::Reply movie_query(core::Request& req)
{
    model::MovieQuery q;
    q.page = static_cast<int>(kPage.read_int(req));
    q.limit = static_cast<int>(kLimit.read_int(req));
    q.search = kSearch.read_text(req);
    q.creator = kCreator.read_text(req);
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
    const auto& in = read_body(req, kCreate);
    model::Movie m;
    m.title = *in.optional_string("title");
    m.director = in.optional_string("director").value_or("");
    m.creator = get_myself(req).id;  // read first: the caller's account may be gone
    model::Tx tx;
    m.insert(tx);
    return committed(tx, 201, m, "created");
}

core::Reply movie_update(core::Request& req)
{
    const auto id = movie_id(req);
    const auto& in = read_body(req, kUpdate);
    model::Tx tx;
    auto m = model::Movie::get(tx, id);
    m.title = in.optional_string("title").value_or(m.title);
    m.director = in.optional_string("director").value_or(m.director);
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

void add_movies_routes(core::Router& r)
{
    using core::Role;
    const auto& movie = movie_schema();
    r.add("GET", "/api/movies/", Role::visitor, movie_query,
          "List movies ordered by id. Query: page (1-based), limit (default 1000), search (in "
          "title or director), creator (user id).")
        .named("listMovies")
        .params({kPage, kLimit, kSearch, kCreator})
        .gives(200, core::Schema::array_of(movie), "The movies of that page");
    r.add("GET", "/api/movies/{id}", Role::visitor, movie_get, "Get one movie by id.")
        .named("getMovie")
        .gives(200, movie, "The movie");
    r.add("POST", "/api/movies/", Role::editor, movie_create,
          "Create a movie from {title, director?}; replies 201 with it. The creator is the caller.")
        .named("createMovie")
        .takes(kCreate)
        .gives(201, movie, "The new movie");
    r.add("PUT", "/api/movies/{id}", Role::editor, movie_update,
          "Update the title and/or director of a movie; replies with the movie.")
        .named("updateMovie")
        .takes(kUpdate)
        .gives(200, movie, "The updated movie");
    r.add("DELETE", "/api/movies/{id}", Role::editor, movie_delete,
          "Delete a movie; replies with the deleted movie.")
        .named("deleteMovie")
        .gives(200, movie, "The deleted movie");
}

}  // namespace api
