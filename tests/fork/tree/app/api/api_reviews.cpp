// api_reviews.cpp: reviews of movies. Anyone reads them, a logged-in user writes one, and only
// its author or an admin deletes it (the route's ownership rule).
#include "app/api/account.h"
#include "app/api/input.h"
#include "app/api/routes.h"
#include "app/core/log.h"
#include "app/model/movie.h"
#include "app/model/review.h"
#include "app/tasks/spool.h"

namespace api {
namespace {

const auto lg = core::logger("api.reviews");
constexpr std::size_t kMaxReview = 5000;

// clang-format off: one member a line, with its limits
const core::Schema kReviewInput =
    core::Schema::object("ReviewInput")
        .multiline_text("text", kMaxReview, "The review; it may hold line breaks")
        .required()
        .not_empty();

const core::Schema kReview = core::Schema::object("Review")
                                 .text("id", 0, "An integer, as a string: \"17\"")
                                 .required()
                                 .text("movie_id", 0, "The movie's id")
                                 .required()
                                 .text("author", 0, "The user id of its writer")
                                 .required()
                                 .formatted("uuid")
                                 .multiline_text("text", kMaxReview)
                                 .required()
                                 .text("created", 0, "ISO 8601 UTC")
                                 .required();
// clang-format on

core::Reply review_list(core::Request& req)
{
    const auto movie = path_id(req, "movie");
    model::Tx tx{model::Tx::read};
    model::Movie::get(tx, movie);  // 404 for no such movie
    return core::json_reply(200, model::Review::for_movie(tx, movie));
}

core::Reply review_create(core::Request& req)
{
    const auto movie = path_id(req, "movie");
    const auto& in = read_body(req, kReviewInput);
    model::Review r;
    r.movie_id = movie;
    r.author = get_myself(req).id;
    r.text = *in.optional_string("text");
    model::Tx tx;
    model::Movie::get(tx, movie);
    r.insert(tx);
    tx.commit();
    LOG4CPLUS_INFO(lg, "review created id=" << r.id);
    tasks::spool("review_notify", tasks::Args().add("review_id", r.id).add("movie_id", movie));
    return core::json_reply(201, r);
}

core::Reply review_delete(core::Request& req)
{
    const auto id = path_id(req, "review");
    model::Tx tx;
    const auto r = model::Review::get(tx, id);
    core::check_owner(req, r.author);  // the route's owned_by(): 403 for anyone else
    model::Review::remove(tx, id);
    tx.commit();
    LOG4CPLUS_INFO(lg, "review deleted id=" << id);
    return core::json_reply(200, r);
}

}  // namespace

void add_reviews_routes(core::Router& r)
{
    using core::Role;
    r.add("GET", "/api/movies/{id}/reviews", Role::visitor, review_list,
          "List the reviews of a movie, ordered by id.")
        .named("listReviews")
        .gives(200, core::Schema::array_of(kReview), "The movie's reviews");
    r.add("POST", "/api/movies/{id}/reviews", Role::user, review_create,
          "Review a movie: {text}, which may hold line breaks; replies 201 with the review. The "
          "author is the caller.")
        .named("createReview")
        .takes(kReviewInput)
        .gives(201, kReview, "The new review");
    r.add("DELETE", "/api/reviews/{id}", Role::user, review_delete,
          "Delete a review; replies with the deleted review.")
        .named("deleteReview")
        .owned_by("author")  // Role::admin and above may delete anyone's
        .gives(200, kReview, "The deleted review");
}

}  // namespace api
