#!/usr/bin/env bash
# fuzz.sh: the fuzz stage (issue 8): builds the libFuzzer harnesses of tests/fuzz with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, then runs each harness as a
# ctest test: its regression inputs, then $FUZZ_SECONDS (default 30) of fuzzing. Exits with
# ctest's status. Run from anywhere, as root or with sudo; `deploy/local.sh test` calls it last.
#
#   bash deploy/fuzz.sh                     all harnesses, 30 s each, two at a time on 2 cores
#   FUZZ_SECONDS=300 bash deploy/fuzz.sh    a longer hunt
#   FUZZ_ONLY=json bash deploy/fuzz.sh      the harnesses whose name matches (a ctest -R regex)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"
cd "$ROOT"

# The build's own packages, and clang 14 with its fuzzer and sanitizer runtimes (libclang-rt).
ensure_packages build-essential cmake pkg-config libfcgi-dev libpqxx-dev libhiredis-dev \
    rapidjson-dev libscrypt-dev libssl-dev liblog4cplus-dev libboost-test-dev libboost-dev \
    libkainjow-mustache-dev clang libclang-rt-14-dev

export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
[[ $FUZZ_SECONDS =~ ^[0-9]+$ ]] || die "FUZZ_SECONDS must be a whole number of seconds"

say "building the fuzz harnesses (build-fuzz/)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DAPP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build build-fuzz -j"$(nproc)" >&2

say "fuzzing: each harness replays its regressions, then runs ${FUZZ_SECONDS}s"
rc=0
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$(nproc)" ${FUZZ_ONLY:+-R "$FUZZ_ONLY"} ||
    rc=$?
[ "$rc" -eq 0 ] || say "fuzzing failed (exit $rc): tests/fuzz/regressions/README.md says what to do with a finding"
exit "$rc"
