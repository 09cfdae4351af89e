#!/usr/bin/env bash
# run.sh: the booted-server test (ctest label `server`; alone: `ctest --test-dir build -L server`
# or `bash tests/server/run.sh build/tests/api_loadgen`). As root: boots a fresh Debian 12 with
# systemd as PID 1 in a container (tests/server/boot.sh), provisions it with deploy/provision.sh
# as the README says, and does to it what an operator does, printing each step with its time.
# The container shares the host's network, so everything listens on the host's loopback on ports
# of its own (never 80, 443, 5432 or 6379); its root is removed at the end, whatever happened.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
# shellcheck source=deploy/lib.sh
source deploy/lib.sh
# shellcheck source=tests/server/boot.sh
source tests/server/boot.sh

LOADGEN=$(realpath "${1:-build/tests/api_loadgen}")
[ -x "$LOADGEN" ] || die "usage: tests/server/run.sh PATH_TO_api_loadgen (build it first)"
is_root || die "the booted-server test needs root (debootstrap, systemd-nspawn)"

HTTP_PORT=18080 HTTPS_PORT=18443 METRICS_PORT=19117 DB_PORT=15432 REDIS_PORT=16379 SSH_PORT=18022
FCGI_PORT=18090
WORK=$ROOT/var/server-test
CT=$WORK/root
BASE=http://127.0.0.1:$HTTP_PORT
PROVISION=(bash /root/src/deploy/provision.sh --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT"
    --metrics-port "$METRICS_PORT" --db-port "$DB_PORT" --redis-port "$REDIS_PORT")

for p in $HTTP_PORT $HTTPS_PORT $METRICS_PORT $DB_PORT $REDIS_PORT $SSH_PORT $FCGI_PORT; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p of 127.0.0.1 is taken: the booted-server test needs it"
    fi
done

# ---- helpers

# fail MESSAGE: what went wrong, with the units' journal and the app log's end.
fail() {
    printf 'FAILED: %s: %s\n' "${STEP:-setup}" "$*" >&2
    if [ -n "$BOOT_PID" ]; then
        inside systemctl --no-pager --failed >&2 || true
        inside journalctl --no-pager -n 60 -u 'app-*' -u nginx >&2 || true
        inside tail -n 40 /var/log/restpie/app.log >&2 || true
    fi
    exit 1
}
cleanup() {
    local rc=$?
    say "stopping the container, removing its root"
    boot_stop "$CT" || rc=1
    exit "$rc"
}
# http_code URL [CURL_ARGS...]: the status code, 000 when nothing answered.
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }
# poll SECONDS CMD...: CMD until it succeeds (every 0.1 s); false after SECONDS.
poll() {
    local end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}
answers_200() { [ "$(http_code "$BASE$1")" = 200 ]; }
main_pid() { inside systemctl show -p MainPID --value "$1"; }
unit_active() { [ "$(inside systemctl is-active "$1")" = active ]; }
workers_of() { inside sh -c 'cat /proc/$1/task/*/children' _ "$1" | tr ' ' '\n' | grep . | sort; }
log_count() { inside grep -c -F -- "$1" /var/log/restpie/app.log || true; }
# log_has TEXT N: app.log has at least N lines with TEXT (for poll, which runs it again and again).
log_has() { [ "$(log_count "$1")" -ge "$2" ]; }
current_release() { inside readlink /opt/restpie/current | sed 's|^releases/||'; }

trap cleanup EXIT

# ---- 0. a fresh Debian 12, booted

rm -f "$WORK/summary.txt"
step "boot a fresh Debian 12 (debootstrap root, systemd-nspawn)"
boot_packages_host
mkdir -p "$WORK"
boot_prepare "$CT"
boot_start "$CT"
ok "$(inside systemctl --version | head -n1)"

step "copy the checkout in"
mkdir -p "$CT/root/src"
rsync -a --exclude=/.git/ --exclude='/build*/' --exclude=/var/ "$ROOT"/ "$CT/root/src"/
ok

# ---- 1. provision, twice

step "provision (first run: packages, build, database, units)"
inside "${PROVISION[@]}" /root/src >"$WORK/provision1.log" 2>&1 || {
    tail -n 40 "$WORK/provision1.log" >&2
    fail "provision.sh failed"
}
ok "release $(current_release)"

step "the units run, nginx answers through the unix socket"
for unit in app-server app-spooler app-cron nginx postgresql redis-server; do
    [ "$(inside systemctl is-active "$unit")" = active ] || fail "$unit is not active"
done
state=$(inside systemctl is-system-running) || true
[ "$state" = running ] || fail "systemctl is-system-running: $state ($(inside systemctl --failed --plain --no-legend))"
[ "$(inside stat -c '%U:%G %a' /run/restpie/app.sock)" = "restpie:www-data 660" ] ||
    fail "socket: $(inside stat -c '%U:%G %a' /run/restpie/app.sock), not restpie:www-data 660"
answers_200 /api/list || fail "GET /api/list: $(http_code "$BASE/api/list")"
inside nginx -t -q || fail "nginx -t"
ok

step "app.log: one line per request, written by restpie; the journal has the start"
before=$(log_count "GET /api/health -> 200")
for _ in $(seq 20); do answers_200 /api/health || fail "GET /api/health"; done
poll 5 log_has "GET /api/health -> 200" $((before + 20)) ||
    fail "app.log: $(($(log_count "GET /api/health -> 200") - before)) lines for 20 requests"
[ "$(log_count "GET /api/health -> 200")" -eq $((before + 20)) ] || fail "app.log: too many lines"
owner=$(inside stat -c %U /var/log/restpie/app.log)
[ "$owner" = restpie ] || fail "app.log is written by $owner"
journal=$(inside journalctl --no-pager -u app-server)
grep -q "Started app-server.service" <<<"$journal" || fail "no start line in the journal of app-server"
grep -q "server ready: 4 workers up" <<<"$journal" || fail "no 'server ready' in the journal of app-server"
ok

step "health and metrics"
health=$(curl -s --max-time 5 "$BASE/api/health")
grep -q '"ok":true' <<<"$health" || fail "health: $health"
grep -q "\"release\":\"$(current_release)\"" <<<"$health" || fail "health names no release: $health"
inside systemctl stop redis-server
[ "$(http_code "$BASE/api/health")" = 503 ] || fail "health with Redis down: not 503"
health=$(curl -s --max-time 5 "$BASE/api/health")
grep -q '"redis":"unavailable"' <<<"$health" || fail "health with Redis down: $health"
inside systemctl start redis-server
poll 10 answers_200 /api/health || fail "health after Redis came back"
metrics=$(curl -s --max-time 5 "$BASE/metrics")
grep -q '^restpie_http_requests_total{class="2xx"}' <<<"$metrics" ||
    fail "no restpie_http_requests_total through nginx: $(head -c 300 <<<"$metrics")"
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics")
grep -q '^restpie_workers_busy' <<<"$metrics" ||
    fail "no restpie_workers_busy on the metrics port"
ok

step "the sample routes that write are not there in production"
for path in /apitest/sendemail /apitest/dbtruncate /apitest/sleep /apitest/counter; do
    [ "$(http_code "$BASE$path")" = 404 ] || fail "$path: $(http_code "$BASE$path"), not 404"
done
ok

step "an account, a movie, a task spooled for later (before the second provisioning)"
email=operator@example.com
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$WORK/cookies" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"Correct-Horse-42\",\"fname\":\"Op\",\"lname\":\"Erator\"}" \
    "$BASE/api/signup")
[ "$code" = 201 ] || fail "signup: $code"
cookie=$(awk '$6 == "session" { print "session=" $7 }' "$WORK/cookies")
[ -n "$cookie" ] || fail "no session cookie after signup"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" -H 'Content-Type: application/json' \
    -d '{"title":"Kept","director":"Across provisioning"}' "$BASE/api/movies/")
[ "$code" = 201 ] || fail "POST /api/movies/: $code"
marker=kept-$RANDOM$RANDOM
spooled=$(inside runuser -u restpie -- /opt/restpie/current/build/admin spool send_email \
    "{\"to\":\"ops@example.com\",\"subject\":\"$marker\"}" --in 30) || fail "admin spool: $spooled"
conf_sum=$(inside sha256sum /etc/restpie/server-config.json)
ok "$spooled"

step "provision again (idempotent)"
inside "${PROVISION[@]}" /root/src >"$WORK/provision2.log" 2>&1 || {
    tail -n 40 "$WORK/provision2.log" >&2
    fail "the second provision.sh failed"
}
[ "$(inside sha256sum /etc/restpie/server-config.json)" = "$conf_sum" ] || fail "the config changed"
movies=$(curl -s --max-time 5 "$BASE/api/movies/?search=Kept")
grep -q '"Across provisioning"' <<<"$movies" || fail "the movie is gone: $movies"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$BASE/api/me")
[ "$code" = 200 ] || fail "the session is gone (GET /api/me: $code)"
ok

# ---- 3. reload, restart, kills

step "systemctl restart app-spooler; the spooled task runs once"
inside systemctl restart app-spooler
sent="send_email to ops@example.com: $marker"  # the task's own line (the spooler's has its args)
poll 120 log_has "$sent" 1 || fail "the task spooled before provisioning never ran"
sleep 4  # a second run would log within the task's 3 s
[ "$(log_count "$sent")" = 1 ] || fail "the task ran $(log_count "$sent") times"
ok

step "the web and app roles over TCP (--listen, --app-servers, --web-servers), then back"
# As on two machines (README "Scaling out"), with this one playing both: the app's FastCGI on
# TCP, nginx's upstream pointing there, only nginx's address let in.
inside "${PROVISION[@]}" --listen "127.0.0.1:$FCGI_PORT" --app-servers "127.0.0.1:$FCGI_PORT" \
    --web-servers 127.0.0.1 /root/src >"$WORK/provision-tcp.log" 2>&1 || {
    tail -n 40 "$WORK/provision-tcp.log" >&2
    fail "provision.sh with --listen, --app-servers and --web-servers failed"
}
ss -Hltn "sport = :$FCGI_PORT" | grep -q . || fail "nothing listens on 127.0.0.1:$FCGI_PORT"
grep -q "^ *server 127.0.0.1:$FCGI_PORT max_fails=3 fail_timeout=10s;" \
    "$CT/etc/nginx/conf.d/restpie.conf" || fail "nginx's upstream is not 127.0.0.1:$FCGI_PORT"
[ "$(inside jq -c .fcgi_web_server_addrs /etc/restpie/server-config.json)" = '["127.0.0.1"]' ] ||
    fail "fcgi_web_server_addrs is not set"
[ "$(http_code "$BASE/api/movies/")" = 200 ] || fail "no 200 through the TCP upstream"
grep -q '"Across provisioning"' <<<"$(curl -s --max-time 10 "$BASE/api/movies/?search=Kept")" ||
    fail "the data is not there through the TCP upstream"
inside "${PROVISION[@]}" /root/src >"$WORK/provision-unix.log" 2>&1 || {
    tail -n 40 "$WORK/provision-unix.log" >&2
    fail "provision.sh back to the unix socket failed"
}
! ss -Hltn "sport = :$FCGI_PORT" | grep -q . || fail "127.0.0.1:$FCGI_PORT still listens"
[ "$(inside stat -c '%U:%G %a' /run/restpie/app.sock)" = "restpie:www-data 660" ] ||
    fail "the unix socket is not back"
[ "$(http_code "$BASE/api/health")" = 200 ] || fail "no 200 through the unix socket again"
ok

# load NAME PATH [post]: api_loadgen from the host, 4 connections, at least 1,000 requests; its
# stdin is a pipe the test closes to let it finish.
load() {
    local name=$1 path=$2
    shift 2
    exec {fd}> >(API_BASE_URL=$BASE LOADGEN_COOKIE=$cookie \
        LOADGEN_BODY='{"title":"Load","director":"api_loadgen"}' \
        "$LOADGEN" "$path" 4 1000 120 "$@" >"$WORK/load-$name.out" 2>&1)
    eval "LOAD_FD_$name=$fd"
}
load_done() { tail -n 1 "$WORK/load-$1.out" 2>/dev/null | awk '$1 == "progress" || $1 == "total" { print $2 }'; }
load_total() { grep '^total ' "$WORK/load-$1.out"; }
loads_going() { [ "$(load_done get)" -ge 300 ] && [ "$(load_done post)" -ge 300 ]; }
# under_load CMD...: CMD while api_loadgen GETs and POSTs movies (at least 1,000 each); fails on
# any failed request. Sets LOAD_SUMMARY.
under_load() {
    rm -f "$WORK"/load-*.out
    load get "/api/movies/?limit=10"
    load post /api/movies/ post
    poll 30 loads_going || fail "the loads did not get going"
    "$@"
    eval "exec $LOAD_FD_get>&- $LOAD_FD_post>&-"
    poll 130 grep -q '^total ' "$WORK/load-get.out" || fail "the GET load did not end"
    poll 130 grep -q '^total ' "$WORK/load-post.out" || fail "the POST load did not end"
    local get_done get_failed get_error post_done post_failed post_error
    read -r _ get_done get_failed get_error <<<"$(load_total get)" || true
    read -r _ post_done post_failed post_error <<<"$(load_total post)" || true
    [ "$get_failed" = 0 ] && [ "$post_failed" = 0 ] ||
        fail "failed requests: GET $get_failed ($get_error), POST $post_failed ($post_error)"
    [ $((get_done + post_done)) -ge 2000 ] || fail "only $((get_done + post_done)) requests"
    LOAD_SUMMARY="$get_done GET + $post_done POST, 0 failed"
}

step "systemctl reload app-server under load (GET and POST, 2,000+ requests)"
old_workers=$(workers_of "$(main_pid app-server)")
timed_reload() {
    local start
    start=$(date +%s%N)
    inside systemctl reload app-server || fail "systemctl reload app-server failed"
    RELOAD_MS=$((($(date +%s%N) - start) / 1000000))
}
under_load timed_reload
new_workers=$(workers_of "$(main_pid app-server)")
[ -z "$(comm -12 <(echo "$old_workers") <(echo "$new_workers"))" ] || fail "old workers still serve"
ok "systemctl reload took $RELOAD_MS ms; $LOAD_SUMMARY"

step "systemctl restart app-server: the next request within 5 s"
restart_start=$(date +%s%N)
inside systemctl restart --no-block app-server
poll 5 answers_200 /api/health || fail "no 200 within 5 s of the restart"
ok "first 200 $((($(date +%s%N) - restart_start) / 1000000)) ms after the restart began"
poll 10 unit_active app-server || fail "app-server not active after the restart"

step "kill -9 of the master: systemd brings it back within 10 s"
master=$(main_pid app-server)
inside kill -9 "$master"
# Active, not just activating: systemd merges a reload asked for while a unit starts into the
# start, and runs no ExecReload (the failed-reload step below would pass without a check).
new_master() {
    local p
    p=$(main_pid app-server)
    [ "$p" != 0 ] && [ "$p" != "$master" ] && unit_active app-server &&
        answers_200 /api/health
}
poll 10 new_master || fail "no new master serving 10 s after kill -9 (MainPID $(main_pid app-server))"
ok "master $master -> $(main_pid app-server)"

step "a worker SIGKILLed is replaced"
master=$(main_pid app-server)
workers_up() { [ "$(workers_of "$master" | wc -l)" -ge 4 ]; }
poll 10 workers_up || fail "the workers did not all start"
victim=$(workers_of "$master" | head -n 1)
inside kill -9 "$victim"
replaced() { ! workers_of "$master" | grep -qx "$victim" && workers_up; }
poll 10 replaced || fail "worker $victim not replaced in 10 s"
answers_200 /api/health || fail "no answer after the worker's replacement"
ok

step "a reload into a release that fails its --check fails, the old workers serve on"
good=$(current_release)
workers=$(workers_of "$(main_pid app-server)")
inside sh -c "mkdir -p /opt/restpie/releases/broken/build && cat >/opt/restpie/releases/broken/build/server" <<EOF
#!/bin/sh
# A release whose server fails its check; everything else is the good one's.
for a; do [ "\$a" = --check ] && { echo "broken release: check fails" >&2; exit 1; }; done
exec /opt/restpie/releases/$good/build/server "\$@"
EOF
inside chmod 755 /opt/restpie/releases/broken/build/server
switch_to() { inside sh -c "ln -sfn releases/$1 /opt/restpie/current.tmp && mv -T /opt/restpie/current.tmp /opt/restpie/current"; }
switch_to broken
if inside systemctl reload app-server >"$WORK/reload-broken.out" 2>&1; then
    switch_to "$good"
    fail "systemctl reload reported success for a release that fails its check"
fi
[ "$(inside systemctl is-active app-server)" = active ] || fail "app-server is not active after the failed reload"
answers_200 /api/health || fail "no answer after the failed reload"
[ "$(workers_of "$(main_pid app-server)")" = "$workers" ] || fail "the workers changed"
switch_to "$good"
inside rm -rf /opt/restpie/releases/broken
inside systemctl reload app-server || fail "reload back into the good release failed"
ok "$(inside journalctl --no-pager -u app-server | grep -m1 -o 'reload aborted.*' | head -c 150)"

step "logrotate -f: the app logs into the new file"
inside logrotate -f /etc/logrotate.d/restpie || fail "logrotate -f failed"
inside sh -c 'ls /var/log/restpie/app.log.1*' >/dev/null || fail "no rotated app.log.1"
before=$(log_count "GET /api/health -> 200")
for _ in $(seq 5); do answers_200 /api/health; done
poll 5 log_has "GET /api/health -> 200" $((before + 5)) || fail "no new lines in app.log after the rotation"
ok

step "backup: the timer's service once, restored into a scratch database, same row counts"
inside systemctl start restpie-backup.service || fail "restpie-backup.service failed"
dump=$(inside sh -c 'ls -t /var/backups/restpie/*.dump | head -n 1') || fail "no dump in /var/backups/restpie"
inside bash /opt/restpie/current/deploy/restore.sh "$dump" restpie_restore_check >"$WORK/restore.out" 2>&1 ||
    { cat "$WORK/restore.out" >&2; fail "restore.sh failed"; }
counts() {
    inside runuser -u postgres -- psql -X -tA -p "$DB_PORT" -d "$1" \
        -c "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM movies)"
}
live=$(counts restpie) restored=$(counts restpie_restore_check)
[ "$live" = "$restored" ] || fail "rows (users movies): live $live, restored $restored"
inside runuser -u postgres -- psql -X -q -p "$DB_PORT" -c 'DROP DATABASE restpie_restore_check'
ok "users movies: $live"

# ---- deploys over ssh, as from an operator's machine

step "sshd in the container (port $SSH_PORT, a throwaway key), a checkout to deploy from"
printf '#!/bin/sh\nexit 101\n' >"$CT/usr/sbin/policy-rc.d"  # no sshd on the host's port 22
chmod 755 "$CT/usr/sbin/policy-rc.d"
inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    openssh-server >"$WORK/sshd-install.log" 2>&1 || fail "apt-get install openssh-server"
rm -f "$CT/usr/sbin/policy-rc.d"
printf 'Port %s\nListenAddress 127.0.0.1\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n' \
    "$SSH_PORT" >"$CT/etc/ssh/sshd_config.d/restpie-test.conf"
rm -f "$WORK/deploy_key" "$WORK/deploy_key.pub"
ssh-keygen -q -t ed25519 -N '' -C restpie-test -f "$WORK/deploy_key"
install -d -m 700 "$CT/root/.ssh"
install -m 600 "$WORK/deploy_key.pub" "$CT/root/.ssh/authorized_keys"
inside systemctl restart ssh || fail "sshd did not start"
export DEPLOY_SSH="ssh -p $SSH_PORT -i $WORK/deploy_key -o BatchMode=yes -o LogLevel=ERROR -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
# The operator's checkout: this one as it is, its git history included.
CO=$WORK/checkout
rm -rf "$CO"
rsync -a --exclude=/var/ --exclude='/build*/' "$ROOT"/ "$CO"/
ok

deploy() { bash "$CO/deploy/deploy.sh" "$@" root@127.0.0.1; }
doc_line='Whether this server can serve: checks PostgreSQL and Redis now; 200 '
# set_doc TEXT: the one-line change: the health route's doc string, which /api/list shows.
set_doc() {
    sed -i "s|\"[^\"]*Whether this server can serve[^\"]*\"|\"$1\"|" "$CO/app/api/api_health.cpp"
    grep -qF "\"$1\"" "$CO/app/api/api_health.cpp" || fail "the handler's doc string was not changed"
}
serves() {
    local page
    page=$(curl -s --max-time 5 "$BASE/api/list")
    grep -qF "$1" <<<"$page"
}
# deploy_to LOG ARGS...: deploy.sh, its output in LOG; the time in DEPLOY_MS.
deploy_to() {
    local log=$1 start
    shift
    start=$(date +%s%N)
    DEPLOY_RC=0
    deploy "$@" >"$log" 2>&1 || DEPLOY_RC=$?
    DEPLOY_MS=$((($(date +%s%N) - start) / 1000000))
}
step_times() { grep -E '^==> (build|check|migrate|switch and reload): ' "$1" | sed 's/^==> //' | paste -sd ';' -; }

step "deploy of the same source: the release is reused"
deploy_to "$WORK/deploy0.log"
[ "$DEPLOY_RC" = 0 ] || { tail -n 30 "$WORK/deploy0.log" >&2; fail "deploy.sh failed"; }
base_release=$(current_release)
ok "$base_release in $DEPLOY_MS ms"

step "deploy of a one-line change under load: 0 failed, the new reply served, a queued task run once"
set_doc "Deployed change one: $doc_line"
marker=deploy-$RANDOM$RANDOM
inside runuser -u restpie -- /opt/restpie/current/build/admin spool send_email \
    "{\"to\":\"ops@example.com\",\"subject\":\"$marker\"}" --in 5 >/dev/null || fail "admin spool"
under_load deploy_to "$WORK/deploy1.log"
[ "$DEPLOY_RC" = 0 ] || { tail -n 30 "$WORK/deploy1.log" >&2; fail "deploy.sh failed"; }
serves "Deployed change one" || fail "the new reply is not served"
health=$(curl -s --max-time 5 "$BASE/api/health")
grep -q "\"release\":\"$(current_release)\",\"commit\":\"[0-9a-f]\+\",\"deployed_by\":\"[^\"]\+\"" <<<"$health" ||
    fail "health does not say what was deployed by whom: $health"
sent="send_email to ops@example.com: $marker"
poll 30 log_has "$sent" 1 || fail "the task queued before the deploy never ran"
sleep 4
[ "$(log_count "$sent")" = 1 ] || fail "the task queued before the deploy ran $(log_count "$sent") times"
new_release=$(current_release)
[ "$new_release" != "$base_release" ] || fail "no new release"
# The targets of issue 10 on 2 cores: 20 s end to end, 3 s of it for the switch and reload. The
# 20 s is met with the cores to itself; here the build competes with the test's own load, which
# keeps both cores busy (seen: 10 s and 30 s end to end in two CI runs of the same tree), so the
# bound has room: what it must catch is a full rebuild (minutes), not a slow compile. The objects
# the build compiled are printed.
switch_ms=$(sed -n 's/^==> switch and reload: \([0-9]*\) ms$/\1/p' "$WORK/deploy1.log")
[ "$DEPLOY_MS" -le 60000 ] || fail "the deploy took $DEPLOY_MS ms (more than 60 s)"
[ -n "$switch_ms" ] && [ "$switch_ms" -le 3000 ] || fail "the switch and reload took ${switch_ms:-?} ms"
compiled=$(grep -o 'Building CXX object [^ ]*' "$CT/var/cache/restpie/build.log" 2>/dev/null |
    sed 's|.*/||' | paste -sd ' ' - || true)
ok "$DEPLOY_MS ms end to end ($(step_times "$WORK/deploy1.log"); compiled: ${compiled:-?}); $LOAD_SUMMARY"

# refused LOG REASON: the deploy of the broken handler in the checkout failed, saying REASON, and
# the release before serves on; the handler is mended again.
refused() {
    deploy_to "$1"
    [ "$DEPLOY_RC" != 0 ] || fail "deploy.sh reported success"
    grep -q "$2" "$1" || fail "no reason given: $(tail -n 3 "$1")"
    [ "$(current_release)" = "$new_release" ] || fail "current moved to $(current_release)"
    serves "Deployed change one" || fail "the old reply is not served"
    cp "$WORK/api_health.cpp.good" "$CO/app/api/api_health.cpp"
    ok "exit $DEPLOY_RC: $(grep -m1 -o 'error: .*' "$1" | head -c 150)"
}
cp "$CO/app/api/api_health.cpp" "$WORK/api_health.cpp.good"

step "deploy of a change that does not compile: refused, the old release serves"
printf 'this is not C++;\n' >>"$CO/app/api/api_health.cpp"
refused "$WORK/deploy2.log" "the build failed"

step "deploy of a change whose server fails its --check: refused, the old release serves"
sed -i 's|^\(\s*\)r.add("GET", "/api/health"|\1r.add("GET", "/api/health", core::Role::visitor, health, "twice");\n&|' \
    "$CO/app/api/api_health.cpp"
refused "$WORK/deploy3.log" "fails its check"

step "rollback under load: the previous reply within 5 s, 0 failed"
under_load deploy_to "$WORK/rollback.log" --rollback
[ "$DEPLOY_RC" = 0 ] || { cat "$WORK/rollback.log" >&2; fail "rollback failed"; }
[ "$(current_release)" = "$base_release" ] || fail "current is $(current_release), not $base_release"
! serves "Deployed change one" || fail "the rolled-back reply is still served"
[ "$DEPLOY_MS" -le 5000 ] || fail "rollback took $DEPLOY_MS ms"
ok "$DEPLOY_MS ms; $LOAD_SUMMARY"

step "two deploys at once, with a new migration: one waits, the migration runs once, before the switch"
set_doc "Deployed change two: $doc_line"
printf -- '-- 900_deploy_check.sql: made by the booted-server test: a table added by a deploy.\nCREATE TABLE deploy_check (id serial PRIMARY KEY);\n' \
    >"$CO/migrations/900_deploy_check.sql"
printf -- '-- 900_deploy_check.down.sql\nDROP TABLE deploy_check;\n' >"$CO/migrations/900_deploy_check.down.sql"
deploy >"$WORK/deploy4a.log" 2>&1 &
first=$!
deploy >"$WORK/deploy4b.log" 2>&1 &
second=$!
wait "$first" || { tail -n 20 "$WORK/deploy4a.log" >&2; fail "the first of two deploys failed"; }
wait "$second" || { tail -n 20 "$WORK/deploy4b.log" >&2; fail "the second of two deploys failed"; }
grep -q "another deploy runs" "$WORK/deploy4a.log" "$WORK/deploy4b.log" || fail "neither waited for the other"
serves "Deployed change two" || fail "the new reply is not served"
[ -f "$CT/opt/restpie/current/RELEASE" ] || fail "current is not a complete release"
table=$(inside runuser -u postgres -- psql -X -tA -p "$DB_PORT" -d restpie \
    -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 'deploy_check'")
[ "$table" = 1 ] || fail "the migration's table is not there"
applied=$(cat "$WORK/deploy4a.log" "$WORK/deploy4b.log" | grep -c 'applied 900_deploy_check' || true)
[ "$applied" = 1 ] || fail "900_deploy_check applied $applied times by the two deploys"
status=$(deploy --status) || fail "deploy.sh --status failed: $status"
grep -q "^\* $(current_release) .*commit=[0-9a-f]* dirty=yes by=" <<<"$status" ||
    fail "deploy.sh --status does not mark the release that runs: $status"
ok "$(head -n 1 <<<"$status")"

step "a cron job due during a deploy runs once: cron reloads (same pid), no restart"
set_doc "Deployed change three: $doc_line"
late_in_minute() { [ "$(date +%-S)" -ge 54 ]; }
poll 70 late_in_minute || fail "the clock never reached second 54"
cron_pid=$(main_pid app-cron)
due=$(date -d "@$(( ($(date +%s) / 60 + 1) * 60 ))" '+%F %H:%M')  # the next minute
deploy_to "$WORK/deploy5.log"
[ "$DEPLOY_RC" = 0 ] || { tail -n 30 "$WORK/deploy5.log" >&2; fail "deploy.sh failed"; }
[ "$(main_pid app-cron)" = "$cron_pid" ] || fail "cron was restarted (pid $cron_pid -> $(main_pid app-cron))"
due_run="$due:[0-9.]* INFO  cron@- cron_jobs.cpp JOB every_minute -> ok"
cron_ran() { [ "$(inside grep -c -E "^$due_run" /var/log/restpie/app.log)" -ge 1 ]; }
poll 75 cron_ran || fail "every_minute did not run at $due"
sleep 2
runs=$(inside grep -c -E "^$due_run" /var/log/restpie/app.log || true)
[ "$runs" = 1 ] || fail "every_minute ran $runs times at $due"
ok "deploy $DEPLOY_MS ms across $due; every_minute ran once; cron pid $cron_pid kept"

step "the README's operator commands"
inside systemctl status --no-pager restpie.target app-server app-spooler app-cron >/dev/null ||
    fail "systemctl status: not all active"
# Whole outputs first: `grep -q` on a pipe would end the writer early, and pipefail fail it.
out=$(inside /opt/restpie/current/build/server --stats) && grep -q '"workers"' <<<"$out" ||
    fail "server --stats: $out"
out=$(inside /opt/restpie/current/build/spooler --stats) && grep -q '"queue"' <<<"$out" ||
    fail "spooler --stats: $out"
inside journalctl --no-pager -u app-server -u app-spooler -u app-cron >"$WORK/journal.txt" &&
    [ -s "$WORK/journal.txt" ] || fail "journalctl"
inside grep -E ' (WARN|ERROR|FATAL) ' /var/log/restpie/app.log >"$WORK/app-errors.log" || true
inside systemctl reload app-spooler || fail "systemctl reload app-spooler"
inside systemctl reload app-cron || fail "systemctl reload app-cron"
inside systemctl restart app-cron || fail "systemctl restart app-cron"
inside systemctl restart restpie.target || fail "systemctl restart restpie.target"
poll 10 answers_200 /api/health || fail "no health after systemctl restart restpie.target"
for unit in app-server app-spooler app-cron; do
    [ "$(inside systemctl is-active "$unit")" = active ] || fail "$unit not active after the restarts"
done
ok "$(wc -l <"$WORK/app-errors.log") warning and error lines in app.log"

step "systemd-analyze security: each unit at most 2.5"
scores=
for unit in app-server app-spooler app-cron; do
    line=$(inside systemd-analyze security --no-pager "$unit.service" | tail -n 1)
    score=$(grep -oE '[0-9]+\.[0-9]+' <<<"$line" | tail -n 1)
    [ -n "$score" ] || fail "no score for $unit: $line"
    scores+="$unit $score  "
    awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$unit exposure $score > 2.5"
done
ok "$scores"

step "TLS: the site made again with a certificate (HTTP/2, HSTS, HTTP redirects)"
mkdir -p "$CT/etc/ssl/restpie-test"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=restpie-test \
    -keyout "$CT/etc/ssl/restpie-test/key.pem" -out "$CT/etc/ssl/restpie-test/cert.pem" 2>/dev/null ||
    fail "openssl could not make a test certificate"
# As the README says: the site is the operator's; to have provisioning write it again, move it.
inside mv /etc/nginx/sites-available/restpie /root/restpie-site.plain
inside "${PROVISION[@]}" --tls-cert /etc/ssl/restpie-test/cert.pem \
    --tls-key /etc/ssl/restpie-test/key.pem /root/src >"$WORK/provision3.log" 2>&1 || {
    tail -n 40 "$WORK/provision3.log" >&2
    fail "provision.sh with a certificate failed"
}
headers=$(curl -sk --http2 -D - -o /dev/null --max-time 5 "https://127.0.0.1:$HTTPS_PORT/api/health")
grep -q '^HTTP/2 200' <<<"$headers" || fail "https: $(head -n 1 <<<"$headers")"
grep -qi '^strict-transport-security: max-age=' <<<"$headers" || fail "no HSTS header"
[ "$(http_code "$BASE/api/health")" = 301 ] || fail "plain HTTP does not redirect"
ok

steps_passed "booted-server test" "$WORK/summary.txt"
