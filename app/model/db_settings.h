// db_settings.h: the PostgreSQL keys (db_*) and where the migrations are.
#pragma once
#include <string>
#include <vector>

#include "app/core/settings.h"

namespace model {

struct DbSettings {
    // db_host; a path: the directory of its unix socket; "": libpq's; "a,b,c": several servers
    // (spaces removed), of which each process uses the one that takes writes now (db.h)
    std::string host;
    int port;                    // db_port
    std::string name, user;      // db_name, db_user
    std::string password;        // db_password; "": none (peer or trust auth, ~/.pgpass)
    int connect_timeout_s;       // db_connect_timeout_s: a dead database fails fast
    int statement_timeout_ms;    // db_statement_timeout_ms: the server kills a slower statement
    int dead_host_s;             // db_dead_host_s: a TCP peer silent this long is given up
    std::string migrations_dir;  // migrations_dir, relative to the working directory
    static std::vector<core::Key> keys();
    bool several_hosts() const { return host.find(',') != std::string::npos; }
    static DbSettings from(const core::Config& c);  // ConfigError on an empty host in a list
};

}  // namespace model
