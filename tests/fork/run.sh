#!/usr/bin/env bash
# run.sh WORK_DIR: the fork scenario of README "Extending", done as a new user of the project
# would do it on a fork. It copies this tree (what a clone of this commit holds, plus the changes
# not committed yet) into WORK_DIR/src, adds the reviews feature kept in tests/fork/tree/ (a
# migration, a model, three routes with an ownership rule, a task, a cron job, its api tests) as
# new files only, builds what the tests need and runs the new tests with the suites that new
# files of this kind could break, against a test stack of its own (TEST_SLOT=7, var/test7 in the
# copy). It fails when the feature would have to change a file that was there, or when the build
# or a test fails. ctest runs it (label fork); it prints each step with its time.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
[ $# -eq 1 ] || { echo "usage: $0 WORK_DIR" >&2; exit 2; }
mkdir -p "$1"
WORK=$(cd "$1" && pwd -P)
COPY=$WORK/src
FEATURE=$SRC/tests/fork/tree
SLOT=${FORK_TEST_SLOT:-7}  # no other stack uses it; CI runs nothing else beside
start=$SECONDS
step() { printf '==== fork scenario, %3d s: %s\n' $((SECONDS - start)) "$*"; }
fail() { printf 'fork scenario FAILED: %s\n' "$*" >&2; exit 1; }
case $COPY/ in "$FEATURE"/* | "$SRC"/app/* | "$SRC"/tests/*) fail "WORK_DIR is inside the tree" ;; esac

# The Boost suites run in the copy: the new one, and those that read every route, every reply
# schema, the movies the reviews belong to, the spooler, the whole log (api), and the migrations
# one after the other, up and down (db). The ctest tests wrappers and format check new files,
# openapi lints the document with the new routes (their ownership rule, a multi-line text).
SUITES=api_reviews,api_core,api_schemas,api_movie_writes,api_tasks,zz_log,migrations
CTEST_SELECT='^(api|db|wrappers|format|openapi)$'
TARGETS="api_tests db_tests"

# 1. The copy. A checkout's files as git lists them (tracked, and new ones not ignored), as they
# are on disk: what a clone would hold once these changes are committed. The copy's build/ is
# kept from an earlier run (an incremental build: tar keeps the files' times); the rest is new.
# safe.directory: CI may run as root in a checkout another user owns, where git would refuse.
git_src() { git -c safe.directory="$SRC" -C "$SRC" "$@"; }
git_src rev-parse --git-dir >/dev/null 2>&1 ||
    fail "$SRC is not a git checkout: the copy is made from git's file list"
if [ -x "$COPY/deploy/local.sh" ]; then  # a run that was cut short may have left its stack up
    TEST_SLOT=$SLOT "$COPY/deploy/local.sh" stop test >/dev/null 2>&1 || true
fi
mkdir -p "$COPY"
find "$COPY" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
step "copying the tree into $COPY"
(cd "$SRC" && git_src ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$COPY"
(cd "$COPY" && find . -path ./build -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) \
    >"$WORK/before.sha256"
step "$(wc -l <"$WORK/before.sha256") files copied"

# 2. The feature, as new files only. The migration takes the next free number (NNN in its name).
last=$(find "$COPY/migrations" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -n 1)
next=$(printf '%03d' $((10#${last:0:3} + 1)))
step "adding the reviews feature (migration $next)"
while IFS= read -r -d '' f; do
    rel=${f#"$FEATURE"/}
    dest=$COPY/${rel//NNN/$next}
    [ ! -e "$dest" ] || fail "the feature would change ${dest#"$COPY"/}, a file that was there"
    mkdir -p "$(dirname "$dest")"
    sed "s/NNN/$next/g" "$f" >"$dest"
    echo "    new: ${dest#"$COPY"/}"
done < <(find "$FEATURE" -type f -print0 | sort -z)

# 3. Build (only what the tests need, 2 jobs) and test against the copy's own stack. The
# environment of an outer test run (its stack's APP_* variables) must not leak in.
step "building ($TARGETS) and testing (ctest -R '$CTEST_SELECT', Boost suites $SUITES)"
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(APP_|API_BASE_URL$|SERVER_PID_FILE$)')
rc=0
(cd "$COPY" && TEST_SLOT=$SLOT BUILD_JOBS=2 BUILD_TARGETS=$TARGETS BOOST_TEST_RUN_FILTERS=$SUITES \
    deploy/local.sh test -R "$CTEST_SELECT") || rc=$?

# 4. Nothing that was there has changed, the build and the tests included.
if ! (cd "$COPY" && sha256sum --quiet -c "$WORK/before.sha256"); then
    fail "files that were there changed (above)"
fi
[ "$rc" -eq 0 ] || fail "build or tests failed (exit $rc); the copy's logs: $COPY/var/test$SLOT/log/"
step "passed: the feature needed new files only"
