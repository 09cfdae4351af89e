#!/usr/bin/env bash
# check_wrappers.sh: library types stay in their wrapper (docs/style.md): no hiredis name
# outside app/red, no libpqxx name outside app/model, in any C++ source, comments and includes
# too; only the tests of those layers (tests/db, tests/failover) may use the libraries directly.
# Prints each offending line and exits 1. Run by ctest (label unit).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

status=0
# check WRAPPER REGEX: the lines of C++ sources outside WRAPPER and the layer tests that match
# REGEX.
check() {
    local wrapper=$1 regex=$2 hits
    hits=$(grep -rnE --include='*.cpp' --include='*.h' --include='*.hpp' --include='*.in' \
               "$regex" app tests | grep -vE "^($wrapper|tests/db|tests/failover)/" || true)
    if [ -n "$hits" ]; then
        printf 'outside %s:\n%s\n' "$wrapper" "$hits" >&2
        status=1
    fi
}
check app/red 'hiredis|REDIS_REPLY|redisReply|redisContext|freeReplyObject'
check app/model 'pqxx'
if [ "$status" = 0 ]; then echo "hiredis stays in app/red, libpqxx in app/model"; fi
exit "$status"
