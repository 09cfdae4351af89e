// release.cpp: the deployed release of the running binary (see build_id.h). Resolved through
// /proc/self/exe, so after `current` moves on it still names the release this image came from.
#include <fstream>
#include <string>

#include "app/core/build_id.h"
#include "app/core/supervisor.h"  // self_path

namespace core {

std::string release_id()
{
    std::string dir = self_path();  // <release>/build/server
    for (int up = 0; up < 2; ++up) {
        const auto slash = dir.find_last_of('/');
        dir.resize(slash == std::string::npos ? 0 : slash);
    }
    std::ifstream in(dir + "/RELEASE");
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

}  // namespace core
