// release.cpp: the deployed release of the running binary (see release.h). Resolved through
// /proc/self/exe, so after `current` moves on it still names the release this image came from.
#include <fstream>
#include <string>

#include "app/prefork/release.h"
#include "app/prefork/supervisor.h"  // self_path

namespace prefork {

namespace {

// <release> for <release>/build/server.
std::string release_dir()
{
    std::string dir = self_path();
    for (int up = 0; up < 2; ++up) {
        const auto slash = dir.find_last_of('/');
        dir.resize(slash == std::string::npos ? 0 : slash);
    }
    return dir;
}

std::string trimmed(std::string line)
{
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

}  // namespace

std::string release_id()
{
    std::ifstream in(release_dir() + "/RELEASE");
    std::string line;
    std::getline(in, line);
    return trimmed(line);
}

std::string release_record(const std::string& key)
{
    std::ifstream in(release_dir() + "/DEPLOYED");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + "=", 0) == 0)
            return trimmed(line.substr(key.size() + 1));
    return "";
}

}  // namespace prefork
