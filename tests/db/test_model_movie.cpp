// test_model_movie.cpp: model::Movie against a real PostgreSQL. Every case uses a transaction it
// never commits, so the database is left as it was.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>

#include "app/core/config.h"
#include "app/core/errors.h"
#include "app/core/json.h"
#include "app/model/sql.h"  // model::exec for the checks
#include "app/model/migrations.h"
#include "app/model/movie.h"
#include "app/model/user.h"

namespace {

struct MovieSchema {
    MovieSchema() { model::Migrator(model::db(), core::config().str("migrations_dir")).up(); }
};

std::string new_user(model::Tx& tx, const std::string& email)
{
    model::User u;
    u.email = email;
    u.password = "x";
    u.insert(tx);
    return u.id;
}

model::Movie add_movie(model::Tx& tx, const std::string& title, const std::string& director = "",
                       const std::string& creator = "")
{
    model::Movie m;
    m.title = title;
    m.director = director;
    m.creator = creator;
    m.insert(tx);
    return m;
}

std::vector<std::string> titles(const std::vector<model::Movie>& movies)
{
    std::vector<std::string> out;
    for (const auto& m : movies)
        out.push_back(m.title);
    return out;
}

std::vector<std::string> search(model::Tx& tx, const std::string& text, const std::string& creator)
{
    model::MovieQuery q;
    q.search = text;
    q.creator = creator;
    return titles(model::Movie::query(tx, q));
}

using Titles = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(model_movie, *boost::unit_test::fixture<MovieSchema>())

BOOST_AUTO_TEST_CASE(insert_and_get_round_trip)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.creator@model-test.invalid");
    auto m = add_movie(tx, "Matrix", "Lana Wachowski", uid);
    BOOST_TEST(m.id > 0);
    BOOST_TEST(m.created.size() == 19u);
    BOOST_TEST(m.created == m.modified);

    const auto g = model::Movie::get(tx, m.id);
    BOOST_TEST(g.id == m.id);
    BOOST_TEST(g.title == "Matrix");
    BOOST_TEST(g.director == "Lana Wachowski");
    BOOST_TEST(g.creator == uid);
    BOOST_TEST(g.created == m.created);
    BOOST_TEST(g.modified == m.modified);
}

BOOST_AUTO_TEST_CASE(no_creator_is_stored_as_null)
{
    model::Tx tx;
    auto m = add_movie(tx, "Orphan");
    BOOST_TEST(
        model::exec(tx, "SELECT creator IS NULL FROM movies WHERE id = $1", m.id)[0][0].as<bool>());
    BOOST_TEST(model::Movie::get(tx, m.id).creator == "");
}

BOOST_AUTO_TEST_CASE(to_json_has_string_id_and_null_creator)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.json@model-test.invalid");
    auto with = add_movie(tx, "With", "D", uid);
    auto without = add_movie(tx, "Without");

    rapidjson::Document d;
    d.Parse(core::to_json(with).c_str());
    BOOST_REQUIRE(d.IsObject());
    BOOST_TEST(d.MemberCount() == 6u);
    BOOST_REQUIRE(d["id"].IsString());
    BOOST_TEST(std::string(d["id"].GetString()) == std::to_string(with.id));
    BOOST_TEST(std::string(d["creator"].GetString()) == uid);
    BOOST_TEST(std::string(d["created"].GetString()) == with.created);
    BOOST_TEST(std::string(d["director"].GetString()) == "D");

    d.Parse(core::to_json(without).c_str());
    BOOST_REQUIRE(d.IsObject());
    BOOST_TEST(d["creator"].IsNull());
    BOOST_TEST(std::string(d["director"].GetString()) == "");
}

BOOST_AUTO_TEST_CASE(query_pages_in_id_order)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.pages@model-test.invalid");
    for (const char* t : {"p1", "p2", "p3", "p4", "p5"})
        add_movie(tx, t, "", uid);

    model::MovieQuery q;
    q.creator = uid;
    q.limit = 2;
    BOOST_TEST(titles(model::Movie::query(tx, q)) == (Titles{"p1", "p2"}),
               boost::test_tools::per_element());
    q.page = 2;
    BOOST_TEST(titles(model::Movie::query(tx, q)) == (Titles{"p3", "p4"}),
               boost::test_tools::per_element());
    q.page = 3;
    BOOST_TEST(titles(model::Movie::query(tx, q)) == Titles{"p5"},
               boost::test_tools::per_element());
    q.page = 4;
    BOOST_TEST(model::Movie::query(tx, q).empty());
    q.page = 0;  // 0 means 1
    BOOST_TEST(titles(model::Movie::query(tx, q)) == (Titles{"p1", "p2"}),
               boost::test_tools::per_element());
    q.limit = 0;
    BOOST_TEST(model::Movie::query(tx, q).empty());

    model::MovieQuery all;  // default limit 1000
    all.creator = uid;
    const auto rows = model::Movie::query(tx, all);
    BOOST_REQUIRE(rows.size() == 5u);
    for (std::size_t i = 1; i < rows.size(); ++i)
        BOOST_TEST(rows[i - 1].id < rows[i].id);
}

BOOST_AUTO_TEST_CASE(search_is_case_insensitive_and_literal)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.search@model-test.invalid");
    add_movie(tx, "50% Off", "Someone", uid);
    add_movie(tx, "50x Off", "Someone", uid);
    add_movie(tx, "a_b", "", uid);
    add_movie(tx, "axb", "", uid);
    add_movie(tx, "back\\slash", "", uid);
    add_movie(tx, "Matrix", "Lana WACHOWSKI", uid);

    BOOST_TEST(search(tx, "0% o", uid) == Titles{"50% Off"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "a_b", uid) == Titles{"a_b"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "\\", uid) == Titles{"back\\slash"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "%", uid) == Titles{"50% Off"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "MATRIX", uid) == Titles{"Matrix"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "wachowski", uid) == Titles{"Matrix"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "someone", uid) == (Titles{"50% Off", "50x Off"}),
               boost::test_tools::per_element());
    BOOST_TEST(search(tx, "nothing like it", uid).empty());
    BOOST_TEST(search(tx, "", uid).size() == 6u);
}

BOOST_AUTO_TEST_CASE(creator_filter_is_exact)
{
    model::Tx tx;
    const auto a = new_user(tx, "movie.a@model-test.invalid");
    const auto b = new_user(tx, "movie.b@model-test.invalid");
    const auto c = new_user(tx, "movie.c@model-test.invalid");
    add_movie(tx, "by a 1", "", a);
    add_movie(tx, "by b", "", b);
    add_movie(tx, "by a 2", "", a);
    add_movie(tx, "by nobody");

    BOOST_TEST(search(tx, "", a) == (Titles{"by a 1", "by a 2"}), boost::test_tools::per_element());
    BOOST_TEST(search(tx, "", b) == Titles{"by b"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "", c).empty());
    BOOST_TEST(search(tx, "", "not-a-uuid").empty());  // never a SQL error
    BOOST_TEST(search(tx, "2", a) == Titles{"by a 2"}, boost::test_tools::per_element());
    BOOST_TEST(search(tx, "by ", "").size() >= 4u);
}

BOOST_AUTO_TEST_CASE(update_sets_modified_and_keeps_the_rest)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.update@model-test.invalid");
    auto m = add_movie(tx, "Old title", "Old director", uid);
    // now() is fixed for the transaction, so age the row to see modified move.
    model::exec(tx,
                "UPDATE movies SET created = now() - interval '1 day', "
                "modified = now() - interval '1 day' WHERE id = $1",
                m.id);
    const auto old = model::Movie::get(tx, m.id);

    auto changed = old;
    changed.title = "New title";
    changed.director = "";
    changed.creator = "";  // creator is not updatable
    changed.update(tx);
    BOOST_TEST(changed.modified > old.modified);
    BOOST_TEST(changed.modified == m.modified);
    BOOST_TEST(changed.created == old.created);
    BOOST_TEST(changed.creator == uid);

    const auto g = model::Movie::get(tx, m.id);
    BOOST_TEST(g.title == "New title");
    BOOST_TEST(g.director == "");
    BOOST_TEST(g.modified == changed.modified);

    model::Movie gone;
    gone.id = -1;
    gone.title = "x";
    BOOST_CHECK_THROW(gone.update(tx), core::NotFound);
}

BOOST_AUTO_TEST_CASE(remove_returns_the_deleted_row)
{
    model::Tx tx;
    auto m = add_movie(tx, "Doomed", "Director");
    const auto removed = model::Movie::remove(tx, m.id);
    BOOST_TEST(removed.id == m.id);
    BOOST_TEST(removed.title == "Doomed");
    BOOST_TEST(removed.director == "Director");
    BOOST_TEST(removed.created == m.created);
    BOOST_CHECK_THROW(model::Movie::get(tx, m.id), core::NotFound);
    BOOST_CHECK_THROW(model::Movie::remove(tx, m.id), core::NotFound);
}

BOOST_AUTO_TEST_CASE(missing_ids_are_not_found)
{
    model::Tx tx;
    BOOST_CHECK_EXCEPTION(
        model::Movie::get(tx, 9223372036854775807), core::NotFound, [](const core::NotFound& e) {
            return e.status == 404 && std::string(e.what()) == "movie 9223372036854775807";
        });
    BOOST_CHECK_THROW(model::Movie::get(tx, 0), core::NotFound);
    BOOST_CHECK_THROW(model::Movie::get(tx, -5), core::NotFound);
}

BOOST_AUTO_TEST_CASE(deleting_the_creator_keeps_the_movie)
{
    model::Tx tx;
    const auto uid = new_user(tx, "movie.deleted@model-test.invalid");
    auto m = add_movie(tx, "Survivor", "", uid);
    model::exec(tx, "DELETE FROM users WHERE id = $1::uuid", uid);
    BOOST_TEST(model::Movie::get(tx, m.id).creator == "");  // ON DELETE SET NULL
}

BOOST_AUTO_TEST_SUITE_END()
