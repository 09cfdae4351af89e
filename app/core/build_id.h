// build_id.h: which build is running: the id CMake wrote at configure time (APP_BUILD_ID, by
// default `git describe --always --dirty`). The release it was deployed as: app/prefork/release.h.
#pragma once
#include <string>

namespace core {

const char* build_id();

}  // namespace core
