// failover.cpp: see failover.h.
#include "tests/failover/failover.h"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <sstream>

#include "app/model/db.h"
#include "tests/support.h"

namespace failover {

std::string servers(const std::string& args)
{
    const auto out =
        test::command_output("bash tests/failover/servers.sh " + args + " 2>&1; echo \"exit=$?\"");
    const auto at = out.rfind("exit=");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos && out.compare(at, 7, "exit=0\n") == 0,
                          "servers.sh " << args << ": " << out);
    return out.substr(0, at);
}

Ports ports()
{
    Ports p{};
    std::istringstream in(servers("ports"));
    in >> p.pg >> p.master >> p.replica >> p.sentinel[0] >> p.sentinel[1] >> p.sentinel[2];
    BOOST_REQUIRE(p.sentinel[2] > 0);
    return p;
}

ConfigScope::ConfigScope(const std::function<void(core::Config&)>& changes) : saved_(core::config())
{
    core::Config c = saved_;
    changes(c);
    core::set_config(c);
}

ConfigScope::~ConfigScope()
{
    core::set_config(saved_);
}

int status_of(const std::function<void()>& handler, const std::string& method)
{
    model::drop_if_closed();
    return test::reply_to(handler, method).status;
}

std::string describe(const std::map<int, int>& statuses)
{
    std::string out;
    for (const auto& [status, count] : statuses)
        out += (out.empty() ? "" : ", ") + std::to_string(status) + ": " + std::to_string(count);
    return "{" + out + "}";
}

}  // namespace failover
