// test_api_account.cpp: login, signup, logout, me and the user list over HTTP, with every status
// and message of docs/api.md, and bad input that must be a 400 and write nothing.
#include <boost/test/unit_test.hpp>

#include "app/core/password.h"
#include "app/model/db.h"
#include "app/model/user.h"
#include "tests/api/accounts.h"

using namespace test;

namespace {

struct Clean {
    Clean() { clear_login_throttle(); }
};

std::string err(const HttpReply& r)
{
    return r.body;
}

bool user_exists(const std::string& email)
{
    model::Tx tx{model::Tx::read};
    return model::User::get_by_email(tx, email).has_value();
}

HttpReply signup(const std::string& json)
{
    return post_json("/api/signup", json);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_account, Clean)

BOOST_AUTO_TEST_CASE(login_replies_with_the_user_and_a_session)
{
    const auto a = make_account("editor", "login");
    auto upper = a.email;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto r = login(upper, a.password);  // emails match in any letter case
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("content-type") == "application/json");
    const auto d = parse(r);
    BOOST_TEST(str(d, "id") == a.id);
    BOOST_TEST(str(d, "email") == a.email);
    BOOST_TEST(str(d, "role") == "editor");
    BOOST_TEST(!d.HasMember("password"));
    BOOST_TEST(r.body.find(kPasswordMark) == std::string::npos);
    BOOST_TEST(session_id(r).size() == 64u);
}

// A user imported from RESTPie3 with its passlib hash ("Secret12", made by passlib 1.7.4) logs in
// with the old password; the first good login stores an scrypt hash, which the next one uses. A
// wrong password leaves the old hash as it was.
BOOST_AUTO_TEST_CASE(restpie3_users_log_in_and_their_hash_is_upgraded)
{
    const std::string imported =
        "$pbkdf2-sha256$29000$EKI0pnQOgfAeo7TWGsM4xw$"
        "0v1oqI1f8fI/TgHddnK107j2u.sbm7JGqaPgNixhSc4";
    const auto add_imported = [&](const std::string& tag) {
        model::User u;
        u.email = unique_email(tag);
        u.password = imported;
        u.first_name = "Old";
        u.last_name = tag;
        u.role = "editor";
        model::Tx tx;
        u.insert(tx);
        tx.commit();
        return u;
    };
    const auto hash_of = [](const std::string& email) {
        model::Tx tx{model::Tx::read};
        return model::User::get_by_email(tx, email)->password;
    };
    const auto kept = add_imported("imported-wrong");
    BOOST_TEST(login(kept.email, "Secret13").status == 400);
    BOOST_TEST(hash_of(kept.email) == imported);

    const auto u = add_imported("imported");
    const auto first = login(u.email, "Secret12");
    BOOST_TEST(first.status == 200);
    BOOST_TEST(str(parse(first), "id") == u.id);
    BOOST_TEST(session_id(first).size() == 64u);
    const auto upgraded = hash_of(u.email);
    BOOST_TEST(upgraded.rfind("$s1$", 0) == 0u);
    BOOST_TEST(core::check_password(upgraded, "Secret12"));
    BOOST_TEST(login(u.email, "Secret12").status == 200);
    BOOST_TEST(login(u.email, "Secret13").status == 400);
    BOOST_TEST(hash_of(u.email) == upgraded);
}

BOOST_AUTO_TEST_CASE(login_missing_input_and_wrong_credentials)
{
    const auto a = make_account("editor", "badlogin");
    for (const std::string& body : std::vector<std::string>{
             "{}", R"({"email":")" + a.email + R"("})", R"({"password":"x"})",
             R"({"email":"", "password":"x"})", R"({"email":")" + a.email + R"(", "password":""})",
             R"({"email":null, "password":"x"})"}) {
        BOOST_TEST_CONTEXT(body)
        {
            const auto r = post_json("/api/login", body);
            BOOST_TEST(r.status == 400);
            BOOST_TEST(err(r) == R"({"err":"400: Missing input"})");
            BOOST_TEST(r.cookies.empty());
        }
    }
    const auto wrong = login(a.email, password("other"));
    const auto unknown = login(unique_email("nobody"), a.password);
    BOOST_TEST(wrong.status == 400);
    BOOST_TEST(unknown.status == 400);
    BOOST_TEST(err(wrong) == R"({"err":"400: Invalid login credentials"})");
    BOOST_TEST(err(unknown) == err(wrong));  // the same message for both
    BOOST_TEST(wrong.cookies.empty());
    BOOST_TEST(unknown.cookies.empty());
    BOOST_TEST(get("/api/login").status == 405);
}

BOOST_AUTO_TEST_CASE(login_bad_input_is_400)
{
    const auto a = make_account("editor", "loginbad");
    const std::string e = "\"" + a.email + "\"", p = "\"" + a.password + "\"";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "request body must be a JSON object"},
        {"{\"email\":" + e, "malformed JSON"},
        {"[" + e + "," + p + "]", "request body must be a JSON object"},
        {"\"text\"", "request body must be a JSON object"},
        {"{\"email\":5,\"password\":" + p + "}", "email must be a string"},
        {"{\"email\":" + e + ",\"password\":[1]}", "password must be a string"},
        {"{\"email\":" + e + ",\"password\":" + p + ",\"remember\":\"yes\"}",
         "remember must be true or false"},
        {"{\"email\":" + e + ",\"password\":" + p + ",\"admin\":true}", "unknown field: admin"},
        {"{\"email\":\"" + std::string(250, 'a') + "@x.io\",\"password\":" + p + "}",
         "email must be at most 254"},
        {"{\"email\":\"a\xff@x.io\",\"password\":" + p + "}", "malformed JSON"},
        {"{\"email\":\"a\\u0000b@x.io\",\"password\":" + p + "}", "email must not contain control"},
    };
    for (const auto& [body, msg] : cases) {
        BOOST_TEST_CONTEXT(body.substr(0, 80))
        {
            const auto r = post_json("/api/login", body);
            BOOST_TEST(r.status == 400);
            BOOST_TEST(r.body.find("\"err\":\"400: " + msg) != std::string::npos, r.body);
            BOOST_TEST(session_id(r).empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(signup_creates_an_editor_who_is_logged_in)
{
    const auto email = unique_email("signup");
    const auto r = signup(R"({"email":")" + email + R"(","password":")" + password("s") +
                          R"(","fname":"Tomi","lname":"Mickelsson","company":"Acme"})");
    BOOST_TEST(r.status == 201);
    const auto d = parse(r);
    BOOST_TEST(str(d, "role") == "editor");
    BOOST_TEST(str(d, "fullname") == "Tomi Mickelsson");
    BOOST_TEST(str(d, "email") == email);
    BOOST_TEST(!d.HasMember("password"));
    const auto me = with_session(session_id(r), "GET", "/api/me");
    BOOST_TEST(me.status == 200);
    BOOST_TEST(str(parse(me)["me"], "id") == str(d, "id"));
    // without company, and remember false
    const auto r2 = signup(R"({"email":")" + unique_email("signup2") + R"(","password":")" +
                           password("s2") + R"(","fname":"A","lname":"B","remember":false})");
    BOOST_TEST(r2.status == 201);
    // remember:false: a cookie for this browser session only, with neither Max-Age nor Expires.
    const auto cookie = session_cookie(r2);
    BOOST_REQUIRE(!cookie.empty());
    BOOST_TEST(cookie.find("Max-Age") == std::string::npos, cookie);
    BOOST_TEST(cookie.find("Expires") == std::string::npos, cookie);
    BOOST_TEST(session_cookie(r).find("Max-Age=") != std::string::npos);  // remembered: it has
}

BOOST_AUTO_TEST_CASE(signup_failures_write_nothing)
{
    const auto taken = make_account("readonly", "taken");
    auto upper_taken = taken.email;
    upper_taken[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper_taken[0])));
    const auto fresh = unique_email("nosignup");
    const auto pw = password("x");
    const auto body = [&](const std::string& email, const std::string& p, const std::string& more) {
        return R"({"email":")" + email + R"(","password":")" + p + R"(")" + more + "}";
    };
    const std::string names = R"(,"fname":"A","lname":"B")";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {body(fresh, pw, R"(,"fname":"A")"), "400: Invalid signup input"},
        {body(fresh, pw, R"(,"fname":"","lname":"B")"), "400: Invalid signup input"},
        {body("", pw, names), "400: Invalid signup input"},
        {body(upper_taken, pw, names), "400: Signup email taken: " + upper_taken},
        {body(fresh, "1234", names), "400: password must be at least 6 characters"},
        {body(fresh, "abcdef", names),
         "400: password must contain a lowercase letter, an uppercase letter and a digit"},
        {body(fresh, pw, R"(,"fname":")" + std::string(101, 'n') + R"(","lname":"B")"),
         "400: first name must be at most 100"},
        {body(fresh, pw, names + R"(,"company":")" + std::string(101, 'c') + "\""),
         "400: company must be at most 100"},
        {body(fresh, pw, names + R"(,"role":"superuser")"), "400: unknown field: role"},
        {body(fresh, pw, R"(,"fname":1,"lname":"B")"), "400: fname must be a string"},
        {body("no-at-sign", pw, names), "400: email is not a valid address"},
        {"[1,2]", "400: request body must be a JSON object"},
        {"{\"email\":", "400: malformed JSON"},
    };
    for (const auto& [b, msg] : cases) {
        BOOST_TEST_CONTEXT(b.substr(0, 90))
        {
            const auto r = signup(b);
            BOOST_TEST(r.status == 400);
            BOOST_TEST(r.body.find("\"err\":\"" + msg) != std::string::npos, r.body);
            BOOST_TEST(r.cookies.empty());
        }
    }
    BOOST_TEST(!user_exists(fresh));
    BOOST_TEST(!user_exists("no-at-sign"));
}

BOOST_AUTO_TEST_CASE(logout_ends_the_session)
{
    const auto a = make_account("readonly", "logout");
    const auto sid = login_id(a);
    BOOST_TEST(with_session(sid, "GET", "/api/me").status == 200);
    const auto out = with_session(sid, "POST", "/api/logout", "{}");
    BOOST_TEST(out.status == 200);
    BOOST_TEST(out.body == "{}");
    BOOST_TEST(session_cookie(out).find("Max-Age=0") != std::string::npos);
    BOOST_TEST(with_session(sid, "GET", "/api/me").status == 401);  // the replayed cookie
    BOOST_TEST(with_session(sid, "POST", "/api/logout", "").status == 401);
    BOOST_TEST(post_json("/api/logout", "{}").status == 401);  // never logged in
    const auto sid2 = login_id(a);
    BOOST_TEST(with_session(sid2, "POST", "/api/logout", R"({"all":true})").status == 400);
    BOOST_TEST(with_session(sid2, "GET", "/api/me").status == 200);  // the bad logout did nothing
    BOOST_TEST(with_session(sid2, "POST", "/api/logout", "").status == 200);  // no body is fine too
}

BOOST_AUTO_TEST_CASE(me_needs_a_login)
{
    BOOST_TEST(get("/api/me").status == 401);
    BOOST_TEST(get("/api/me").body == R"({"err":"401: not authorized"})");
    BOOST_TEST(post_json("/api/me", "{}").status == 405);
    const auto a = make_account("admin", "me");
    const auto r = with_session(login_id(a), "GET", "/api/me");
    BOOST_TEST(r.status == 200);
    const auto d = parse(r);
    BOOST_REQUIRE(d.HasMember("me"));
    BOOST_TEST(str(d["me"], "email") == a.email);
    BOOST_TEST(str(d["me"], "role") == "admin");
    BOOST_TEST(!d["me"].HasMember("password"));
}

BOOST_AUTO_TEST_CASE(users_list_for_superusers_with_page_size_search)
{
    const auto su = make_account("superuser", "su");
    const std::string tag = "zlist" + std::to_string(getpid());
    std::vector<std::string> emails;
    for (int i = 0; i < 3; ++i)
        emails.push_back(make_account("readonly", tag).email);
    std::sort(emails.begin(), emails.end());
    const auto sid = login_id(su);
    const auto all = parse(with_session(sid, "GET", "/api/users?search=" + tag));
    BOOST_REQUIRE(all.IsArray());
    BOOST_TEST(all.Size() == 3u);
    BOOST_TEST(str(all[0], "email") == emails[0]);
    BOOST_TEST(!all[0].HasMember("password"));
    const auto page2 =
        parse(with_session(sid, "GET", "/api/users?search=" + tag + "&size=2&page=2"));
    BOOST_REQUIRE(page2.Size() == 1u);
    BOOST_TEST(str(page2[0], "email") == emails[2]);
    const auto upper =
        parse(with_session(sid, "GET", "/api/users?search=ZLIST" + std::to_string(getpid())));
    BOOST_TEST(upper.Size() == 3u);  // case-insensitive
    BOOST_TEST(parse(with_session(sid, "GET", "/api/users?search=Test")).Size() >=
               4u);  // first names
    BOOST_TEST(with_session(sid, "GET", "/api/users?page=x").status == 400);
    BOOST_TEST(with_session(sid, "GET", "/api/users?size=-1").status == 400);
    BOOST_TEST(get("/api/users").status == 401);
}

BOOST_AUTO_TEST_SUITE_END()
