#!/usr/bin/env bash
# run.sh OUT: the ctest `openapi` test against the running test stack (API_BASE_URL, APP_REDIS_HOST
# as deploy/local.sh stack test prints them): fetch /api/openapi.json, lint it with redocly
# (redocly.yaml: 0 errors, only the warnings listed there), generate its TypeScript types with
# openapi-typescript, type-check the movie flow (flow.ts, openapi-fetch) with tsc and run it.
# OUT (the build tree's tests/openapi) gets the document, the types, the JavaScript and the npm
# packages: npm ci runs there only when package-lock.json changed since its last install. (Not in
# the source tree: deploy.sh and the booted-server test copy that, but never build*/.)
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OUT=${1:?usage: run.sh OUT}
: "${API_BASE_URL:?API_BASE_URL is not set: run it against a stack (deploy/local.sh stack test)}"
mkdir -p "$OUT"
cd "$OUT"

say() { printf '==> %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null ||
    die "node and npm are missing (deploy/local.sh installs nodejs and npm)"
say "node $(node --version), npm $(npm --version)"
cp "$SRC"/{package.json,package-lock.json,tsconfig.json,redocly.yaml,flow.ts} .

stamp=node_modules/.restpie-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "npm ci in $OUT (package-lock.json changed or no node_modules yet)"
    timeout 600 npm ci --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi
bin=$OUT/node_modules/.bin

say "GET $API_BASE_URL/api/openapi.json"
curl -fsS --max-time 10 -o openapi.json "$API_BASE_URL/api/openapi.json"

say "redocly lint (redocly.yaml)"
timeout 120 "$bin/redocly" lint --config redocly.yaml openapi.json || die "redocly lint: errors"
# Every warning must come from a rule redocly.yaml keeps as a warning on purpose, with its reason.
timeout 120 "$bin/redocly" lint --config redocly.yaml --format=json openapi.json \
    >lint.json 2>/dev/null || true
node - lint.json redocly.yaml <<'JS'
const fs = require("fs");
const [report, config] = process.argv.slice(2);
const kept = new Set([...fs.readFileSync(config, "utf8").matchAll(/^\s+([a-z0-9-]+): warn\b/gm)]
    .map((m) => m[1]));
const problems = JSON.parse(fs.readFileSync(report, "utf8")).problems;
const bad = problems.filter((p) => p.severity !== "warn" || !kept.has(p.ruleId));
for (const p of bad) console.error(`${p.severity} ${p.ruleId}: ${p.message}`);
if (bad.length) process.exit(1);
console.log(`${problems.length} warning(s), all of rules kept in redocly.yaml`);
JS

say "openapi-typescript -> $OUT/api.d.ts"
timeout 120 "$bin/openapi-typescript" openapi.json -o api.d.ts

say "tsc"
# The committed tsconfig, with the generated types as the module "restpie-api".
cat >tsconfig.run.json <<'JSON'
{
  "extends": "./tsconfig.json",
  "compilerOptions": {"outDir": "js", "paths": {"restpie-api": ["./api.d.ts"]}},
  "files": ["flow.ts", "api.d.ts"]
}
JSON
timeout 180 "$bin/tsc" -p tsconfig.run.json

say "the movie flow against $API_BASE_URL"
# The api suite's throttle tests leave this address's signup window full: start a new one.
case "${APP_REDIS_HOST:-}" in
    /*) redis-cli -s "$APP_REDIS_HOST" DEL signup:ip:127.0.0.1 >/dev/null ;;
    ?*) redis-cli -h "$APP_REDIS_HOST" -p "${APP_REDIS_PORT:-6379}" DEL signup:ip:127.0.0.1 >/dev/null ;;
esac
timeout 60 node js/flow.js openapi.json
