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
    # One run per file (given a file, libFuzzer runs it once), so the report lists every one
    # that fails, with its output.
    failed=()
    for f in "${regressions[@]}"; do
        if ! "$bin" "${opts[@]}" -artifact_prefix="$work/artifacts/" "$f" >"$work/regression.log" 2>&1; then
            grep -v '^INFO:' "$work/regression.log" | head -n 40
            failed+=("${f#"$src"/}")
        fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
        for f in "${failed[@]}"; do echo "FAILED: $name fails again on tests/fuzz/$f" >&2; done
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
grep -E "^(Done|stat::)" "$work/fuzz.log" || true
