// release.h: the deployed release of the running binary, next to its build id (core/build_id.h).
#pragma once
#include <string>

namespace prefork {

// The first line of RELEASE in the directory two levels above the running binary
// (/opt/restpie/releases/<id>/RELEASE for /opt/restpie/releases/<id>/build/server); "" when
// missing.
std::string release_id();

// Who deployed that release, from DEPLOYED beside RELEASE (deploy/release.sh writes its
// `commit=`, `dirty=`, `by=` and `time=` lines): the value of `key`, "" when missing.
std::string release_record(const std::string& key);

}  // namespace prefork
