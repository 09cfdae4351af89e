// api_auth_pages.cpp: plain HTML forms (no JavaScript) for login, signup, forgot and reset
// password, all posting to /auth/postform. Success redirects to /api/me; a failure shows the
// page again with the error (200; 429 when throttled); a request our forms cannot make (no mode,
// unknown fields, bad text) or a post without the page's form token (csrf.h) is a 400 page.
// Every page carries a fresh form token. Every value is HTML-escaped by the template ({{x}}).
#include <string>
#include <vector>

#include "app/api/account.h"
#include "app/api/csrf.h"
#include "app/api/input.h"
#include "app/api/password_reset.h"
#include "app/api/routes.h"
#include "app/core/errors.h"
#include "app/core/template.h"

namespace api {
namespace {

struct Mode {
    std::string name, title;
    std::vector<std::string> fields;  // what its form posts, besides mode
};

const std::vector<Mode> kModes = {
    {"login", "Login", {"email", "passwd"}},
    {"signup", "Signup", {"email", "firstname", "lastname", "passwd", "passwd2"}},
    {"forgot", "Forgot password", {"email"}},
    {"reset", "Reset password", {"email", "passwd", "passwd2", "token"}},
};

const Mode* find_mode(const std::string& name)
{
    for (const auto& m : kModes)
        if (m.name == name)
            return &m;
    return nullptr;
}

// What a page shows. Passwords are read from the request, never put here.
struct Page {
    explicit Page(std::string mode_ = "login", std::string err_ = "")
        : mode(std::move(mode_)), err(std::move(err_))
    {
    }
    std::string mode, err, note, email, first_name, last_name, token;
};

core::Reply render(core::Request& req, int status, const Page& p)
{
    const auto& m = *find_mode(p.mode);
    core::TemplateData d;
    d.set("mode", p.mode);
    d.set("csrf_token", new_form_token(req));
    d.set("title", m.title);
    d.set("email", p.email);
    d.set("first_name", p.first_name);
    d.set("last_name", p.last_name);
    // Sections: an empty string would still open {{#x}}, so an empty value is left unset.
    for (const auto& [k, v] : {std::pair{"err", &p.err}, {"note", &p.note}, {"token", &p.token}})
        if (!v->empty())
            d.set(k, *v);
    auto flag = [&](const char* k, bool on) {
        d.set(k, on ? core::TemplateData::type::bool_true : core::TemplateData::type::bool_false);
    };
    flag("is_login", p.mode == "login");
    flag("signup", p.mode == "signup");
    flag("is_forgot", p.mode == "forgot");
    flag("reset", p.mode == "reset");
    flag("password", p.mode != "forgot");
    flag("password2", p.mode == "signup" || p.mode == "reset");
    return core::html_reply(status, core::render("auth.html", d));
}

std::string field(const core::Request& req, const char* key)
{
    return req.form(key).value_or("");
}

// The form as our pages post it, with their token: 400 for anything else.
const Mode& check_form(const core::Request& req)
{
    if (req.form_params().empty())
        throw core::BadRequest("expected a form (application/x-www-form-urlencoded)");
    check_form_token(req);
    const Mode* m = find_mode(field(req, "mode"));
    if (!m)
        throw core::BadRequest("unknown form mode");
    std::vector<std::string> keys;
    for (const auto& [k, v] : req.form_params())
        if (k != "mode" && k != kCsrfName)
            keys.push_back(k);
    only_fields(keys, m->fields);
    for (const auto& f : m->fields) {
        if (f != "email" || m->name != "reset")  // the reset page's email is only shown
            if (!req.form(f))
                throw core::BadRequest("missing field: " + f);
        const bool name = f == "firstname" || f == "lastname";
        check_line(f, field(req, f.c_str()),
                   f == "email" ? kMaxEmail
                   : name       ? kMaxName
                                : kMaxPassword);
    }
    return *m;
}

core::Reply run(core::Request& req, Page& p)
{
    const auto passwd = field(req, "passwd");
    if (p.mode != "reset" && p.email.empty())
        throw core::BadRequest("Email is missing");
    if (p.mode != "forgot" && passwd.empty())
        throw core::BadRequest("Password is missing");
    if (p.mode == "login") {
        log_in(req, check_login(req, p.email, passwd), true, "LOGIN OK");
    } else if (p.mode == "signup") {
        if (passwd != field(req, "passwd2"))
            throw core::BadRequest("Passwords differ");
        log_in(req, signup_account(req, {p.email, passwd, p.first_name, p.last_name}), true,
               "SIGNUP OK");
    } else if (p.mode == "forgot") {
        request_password_reset(req, p.email);
        p.note = "If there is an account for " + p.email +
                 ", a link to reset its password is on "
                 "its way there. The link works for one hour, from this computer only.";
        return render(req, 200, p);
    } else {
        if (passwd != field(req, "passwd2"))
            throw core::BadRequest("Passwords differ");
        log_in(req, reset_password(req, p.token, passwd), true, "LOGIN OK");
    }
    return core::redirect("/api/me");
}

core::Reply postform(core::Request& req)
{
    Page p;
    try {
        p.mode = check_form(req).name;
    } catch (const core::BadRequest& e) {
        const auto* m = find_mode(field(req, "mode"));
        return render(req, 400, Page{m ? m->name : "login", e.what()});
    }
    p.email = field(req, "email");
    p.first_name = field(req, "firstname");
    p.last_name = field(req, "lastname");
    p.token = field(req, "token");
    try {
        return run(req, p);
    } catch (const core::HttpError& e) {
        if (e.status >= 500)
            throw;
        p.err = e.what();
        return render(req, e.status == 429 ? 429 : 200, p);  // 429 goes with its Retry-After
    }
}

core::Reply reset_page(core::Request& req)
{
    Page p{"reset"};
    p.token = req.query("token").value_or("");
    if (const auto u = reset_token_user(p.token))
        p.email = u->email;
    else
        p = Page{"reset", "Token is missing or expired"};
    return render(req, 200, p);
}

}  // namespace

void add_auth_pages_routes(core::Router& r)
{
    using core::Role;
    for (const char* mode : {"login", "signup", "forgot"})
        r.add(
             "GET", std::string("/auth/") + mode, Role::visitor,
             [mode](core::Request& req) { return render(req, 200, Page{mode}); },
             std::string("The ") + mode + " page: a plain HTML form posting to /auth/postform.")
            .named(std::string(mode) + "Page")
            .html("The page");
    r.add("GET", "/auth/reset", Role::visitor, reset_page,
          "The reset password page for ?token= from the reset link.")
        .named("resetPage")
        .params({core::Param::text("token", 0, "From the reset link")})
        .html("The page");
    r.add("POST", "/auth/postform", Role::visitor, postform,
          "The form target of the auth pages, field mode = login, signup, forgot or reset; "
          "redirects to /api/me on success, else shows the page with the error.")
        .named("postForm")
        .gives(302, "Done: to /api/me")
        .html("The page with the error")
        .body = core::Body::form;
}

}  // namespace api
