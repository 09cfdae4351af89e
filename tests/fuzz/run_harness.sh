#!/usr/bin/env bash
# run_harness.sh NAME BINARY SRC_DIR WORK_DIR: one fuzz test. Replays every input in
# SRC_DIR/regressions/NAME, then fuzzes a scratch copy of SRC_DIR/corpus/NAME (under WORK_DIR,
# never in the repository) for $FUZZ_SECONDS (default 30). Fails on any crash, leak, timeout or
# sanitizer report, and says where the input that did it was written.
set -euo pipefail
name=$1 bin=$2 src=$3 work=$4/$1
seconds=${FUZZ_SECONDS:-30}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "FUZZ_SECONDS must be a whole number" >&2; exit 2; }

# UBSan must stop at the first report (the build says so too) and print where.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
opts=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1)

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"

regressions=()
if [ -d "$src/regressions/$name" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
        < <(find "$src/regressions/$name" -type f ! -name '.*' -print0 | sort -z)
fi
if [ ${#regressions[@]} -gt 0 ]; then
    echo "== $name: replaying ${#regressions[@]} regression input(s)"
    # Given files instead of a folder, libFuzzer runs each once and stops at the first failure.
    if ! "$bin" "${opts[@]}" -artifact_prefix="$work/artifacts/" "${regressions[@]}" \
        >"$work/regressions.log" 2>&1; then
        cat "$work/regressions.log"
        echo "FAILED: a regression input of $name fails again (see above)" >&2
        exit 1
    fi
fi

[ -d "$src/corpus/$name" ] && cp -R "$src/corpus/$name/." "$work/corpus/"
echo "== $name: fuzzing for ${seconds}s"
rc=0
"$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -n 80 "$work/fuzz.log"
    echo "FAILED: $name (exit $rc); the input is in $work/artifacts/:" >&2
    ls -l "$work/artifacts/" >&2
    echo "minimise it with: $bin -minimize_crash=1 -max_total_time=60 <input>," >&2
    echo "then keep it as tests/fuzz/regressions/$name/<what-it-found>" >&2
    exit 1
fi
tail -n 12 "$work/fuzz.log"
