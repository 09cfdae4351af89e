// test_api_reviews.cpp: the reviews resource over HTTP: writing and reading reviews, a review
// text with line breaks, the ownership rule of DELETE (the author or an admin, else 403) and its
// place in /api/list and the OpenAPI document, the spooled review_notify task and the
// reviews_daily cron job run once with `cron --job`, each logging lines that name its file.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "tests/api/accounts.h"
#include "tests/support.h"

using namespace test;

namespace {

struct Reviews {
    Account author = make_account("editor", "reviews");
    std::string sid = login_id(author);
    std::string movie;
    Reviews()
    {
        const auto m = with_session(sid, "POST", "/api/movies/", R"({"title":"Reviewed"})");
        BOOST_REQUIRE_EQUAL(m.status, 201);
        movie = str(parse(m), "id");
    }
    HttpReply write(const std::string& as, const std::string& json_text)
    {
        return with_session(as, "POST", "/api/movies/" + movie + "/reviews", json_text);
    }
    std::string review(const std::string& json_text)
    {
        const auto r = write(sid, json_text);
        BOOST_REQUIRE_EQUAL(r.status, 201);
        return str(parse(r), "id");
    }
};

// Log lines holding every one of `parts`.
int log_lines(const std::vector<std::string>& parts)
{
    std::ifstream in(env_or("APP_LOG_FILE", ""));
    int n = 0;
    for (std::string line; std::getline(in, line);)
        n += std::all_of(parts.begin(), parts.end(),
                         [&](const std::string& p) { return line.find(p) != std::string::npos; });
    return n;
}

// Runs build/cron once for one job, as an operator would; returns its exit status.
int cron_job(const std::string& name)
{
    const int status =
        std::system((std::string(CRON_BIN) + " --job " + name + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_reviews, Reviews)

BOOST_AUTO_TEST_CASE(a_review_with_line_breaks_is_written_and_read)
{
    const auto r = write(sid, R"({"text":"Great.\nSee it twice.\r\n\tReally."})");
    BOOST_REQUIRE_EQUAL(r.status, 201);
    const auto d = parse(r);
    BOOST_TEST(str(d, "text") == "Great.\nSee it twice.\r\n\tReally.");
    BOOST_TEST(str(d, "author") == author.id);
    BOOST_TEST(str(d, "movie_id") == movie);
    const auto list = get("/api/movies/" + movie + "/reviews");
    BOOST_TEST(list.status == 200);
    const auto all = parse(list);
    BOOST_REQUIRE(all.IsArray());
    BOOST_REQUIRE_EQUAL(all.Size(), 1u);
    BOOST_TEST(str(all[0], "id") == str(d, "id"));
}

BOOST_AUTO_TEST_CASE(bad_reviews_are_refused)
{
    BOOST_TEST(post_json("/api/movies/" + movie + "/reviews", R"({"text":"x"})").status == 401);
    const auto bell = write(sid, R"({"text":"ding\u0007"})");
    BOOST_TEST(bell.status == 400);
    BOOST_TEST(bell.body ==
               R"({"err":"400: text must not contain control characters but line breaks"})");
    BOOST_TEST(write(sid, R"({"text":"a lone\rCR"})").status == 400);
    BOOST_TEST(write(sid, R"({"text":""})").status == 400);
    BOOST_TEST(write(sid, R"({"text":"x","stars":5})").body ==
               R"({"err":"400: unknown field: stars"})");
    BOOST_TEST(write(sid, "{\"text\":\"" + std::string(5001, 'x') + "\"}").status == 400);
    BOOST_TEST(with_session(sid, "POST", "/api/movies/abc/reviews", R"({"text":"x"})").body ==
               R"({"err":"404: movie abc"})");
    BOOST_TEST(get("/api/movies/999999999/reviews").status == 404);
    BOOST_TEST(parse(get("/api/movies/" + movie + "/reviews")).Size() == 0u);
}

BOOST_AUTO_TEST_CASE(only_the_author_or_an_admin_deletes_a_review)
{
    const auto id = review(R"({"text":"Mine."})");
    const auto other = login_id(make_account("editor", "reviews"));
    const auto no = with_session(other, "DELETE", "/api/reviews/" + id);
    BOOST_TEST(no.status == 403);
    BOOST_TEST(no.body == R"({"err":"403: only the author or an admin may do this"})");
    BOOST_TEST(with_session("", "DELETE", "/api/reviews/" + id).status == 401);
    BOOST_TEST(parse(get("/api/movies/" + movie + "/reviews")).Size() == 1u);
    const auto yes = with_session(sid, "DELETE", "/api/reviews/" + id);
    BOOST_TEST(yes.status == 200);
    BOOST_TEST(str(parse(yes), "id") == id);
    BOOST_TEST(with_session(sid, "DELETE", "/api/reviews/" + id).status == 404);
    BOOST_TEST(with_session(sid, "DELETE", "/api/reviews/x1").body ==
               R"({"err":"404: review x1"})");

    const auto theirs = review(R"({"text":"Theirs."})");
    const auto admin = login_id(make_account("admin", "reviews"));
    BOOST_TEST(with_session(admin, "DELETE", "/api/reviews/" + theirs).status == 200);
}

BOOST_AUTO_TEST_CASE(the_rule_is_in_the_api_list_and_the_openapi_document)
{
    BOOST_TEST(get("/api/list")
                   .body.find("/api/reviews/{id}</code></td><td>Delete a review; "
                              "replies with the deleted review.</td><td>user; only "
                              "the author or an admin</td><td>api_reviews.cpp") !=
               std::string::npos);
    const auto doc = parse(get("/api/openapi.json"));
    const auto& del = doc["paths"]["/api/reviews/{id}"]["delete"];
    BOOST_TEST(str(del["x-owner-rule"], "owner") == "author");
    BOOST_TEST(str(del["x-owner-rule"], "bypass-role") == "admin");
    BOOST_TEST(str(del["responses"]["403"], "description") == "Not the author or an admin");
    BOOST_TEST(str(del, "description").find("Only the author or an admin (else 403).") !=
               std::string::npos);
    BOOST_TEST(!doc["paths"]["/api/movies/{id}/reviews"]["post"].HasMember("x-owner-rule"));
    const auto& text = doc["components"]["schemas"]["ReviewInput"]["properties"]["text"];
    BOOST_TEST(text["x-multiline"].GetBool());
    BOOST_TEST(text["maxLength"].GetInt() == 5000);
}

BOOST_AUTO_TEST_CASE(review_notify_runs_in_the_spooler_and_logs_its_file)
{
    const auto id = review(R"({"text":"Tell them."})");
    // The task's own line and its run's line both name the file that declared it.
    const std::vector<std::string> own = {"@- reviews_jobs.cpp review_notify: review " + id + " "};
    const std::vector<std::string> run = {
        "@- reviews_jobs.cpp TASK review_notify:", "\"review_id\":" + id + ",", " -> ok "};
    BOOST_TEST(poll_until([&] { return log_lines(own) == 1 && log_lines(run) == 1; }, 15),
               "no review_notify lines for review " << id << " in 15 s");
}

BOOST_AUTO_TEST_CASE(reviews_daily_runs_once_with_cron_job)
{
    const std::vector<std::string> own = {"cron@- reviews_jobs.cpp reviews_daily: "};
    const std::vector<std::string> run = {"cron@- reviews_jobs.cpp JOB reviews_daily -> ok "};
    const int before = log_lines(run);
    BOOST_TEST(cron_job("reviews_daily") == 0);
    BOOST_TEST(log_lines(run) == before + 1);
    BOOST_TEST(log_lines(own) == before + 1);
    BOOST_TEST(cron_job("no_such_job") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
