// support.cpp: see support.h.
#include "tests/support.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <rapidjson/pointer.h>

#include "app/core/dispatcher.h"
#include "app/model/db_errors.h"

extern char** environ;

namespace test {

std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string command_output(const std::string& command)
{
    std::string out;
    if (FILE* p = popen(("{ " + command + "; } 2>&1").c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        pclose(p);
    }
    return out;
}

bool poll_until(const std::function<bool()>& cond, double seconds)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= until)
            return cond();
        sleep_for(0.05);
    }
    return true;
}

void sleep_for(double seconds)
{
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides)
{
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        if (!overrides.count(entry.substr(0, entry.find('='))))
            out.push_back(entry);
    }
    for (const auto& [k, v] : overrides)
        out.push_back(k + "=" + v);
    return out;
}

core::Reply reply_to(const std::function<void()>& handler, const std::string& method)
{
    core::Router router;
    router.add(
        method, "/x", core::Role::visitor,
        [&](core::Request&) -> core::Reply {
            handler();
            return core::raw_json_reply(200, "{}");
        },
        "");
    core::Dispatcher d(router);
    d.set_read_retry(model::retry_read_after_db_error);
    core::Request req({{"REQUEST_METHOD", method}, {"DOCUMENT_URI", "/x"}}, "");
    return d.handle(req);
}

const rapidjson::Value& json_at(const rapidjson::Value& root, const std::string& pointer)
{
    const rapidjson::Pointer p(pointer.c_str());
    BOOST_REQUIRE_MESSAGE(p.IsValid(), "not a JSON pointer: " << pointer);
    const rapidjson::Value* v = p.Get(root);
    BOOST_REQUIRE_MESSAGE(v != nullptr, "nothing at " << pointer);
    return *v;
}

std::string json_text(const rapidjson::Value& root, const std::string& pointer)
{
    const auto& v = json_at(root, pointer);
    BOOST_REQUIRE_MESSAGE(v.IsString(), pointer << " is not a string");
    return {v.GetString(), v.GetStringLength()};
}

}  // namespace test
