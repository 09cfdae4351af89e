#!/usr/bin/env bash
# check_format.sh: every C++ file under app/ and tests/ is laid out as .clang-format says (the
# code as written: docs/style.md). Prints the files clang-format would change, with the first
# lines of the change, and exits 1. Fix with: clang-format -i FILE. Run by ctest (label unit).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v clang-format >/dev/null || { echo "clang-format is missing (apt-get install clang-format)" >&2; exit 1; }

status=0
while IFS= read -r f; do
    if ! out=$(clang-format --style=file "$f" | diff -u "$f" -); then
        printf '%s is not formatted:\n%s\n' "$f" "$(head -n 20 <<<"$out")" >&2
        status=1
    fi
done < <(find app tests -name '*.cpp' -o -name '*.h' | sort)
if [ "$status" = 0 ]; then echo "every file under app/ and tests/ is formatted ($(clang-format --version))"; fi
exit "$status"
