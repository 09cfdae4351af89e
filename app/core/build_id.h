// build_id.h: which build is running: the id CMake wrote at configure time (APP_BUILD_ID, by
// default `git describe --always --dirty`) and the release this binary was deployed as.
#pragma once
#include <string>

namespace core {

const char* build_id();

// The first line of RELEASE in the directory two levels above the running binary
// (/opt/restpie/releases/<id>/RELEASE for /opt/restpie/releases/<id>/build/server); "" when
// missing.
std::string release_id();

// Who deployed that release, from DEPLOYED beside RELEASE (deploy/release.sh writes its
// `commit=`, `dirty=`, `by=` and `time=` lines): the value of `key`, "" when missing.
std::string release_record(const std::string& key);

}  // namespace core
