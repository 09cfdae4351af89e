#!/usr/bin/env bash
# run.sh: the cluster test (issue 13; ctest `cluster`, label cluster). As root, it builds a small
# cluster on this machine out of network namespaces of its own and shows what the loss of a
# machine costs a client, under a bounded load through the load balancer:
#
#   rpc-net   a bridge (br0) and one veth to each host; 10.77.0.0/24 exists only in these
#   rpc-lb    10.77.0.10  nginx: 127.0.0.1:8080 both app hosts, :8081 app1 only, :8082 app2 only
#   rpc-app1  10.77.0.21  build/server (FastCGI on 10.77.0.21:9000), build/spooler, build/cron
#   rpc-app2  10.77.0.22  the same
#   rpc-db1   10.77.0.11  etcd, Patroni with PostgreSQL 15 (the first primary), redis, sentinel
#   rpc-db2   10.77.0.12  etcd, Patroni/PostgreSQL (replica), redis (replica), sentinel
#   rpc-db3   10.77.0.13  etcd, Patroni/PostgreSQL (replica, tags nofailover and nosync),
#                         redis (the first master), sentinel
#
# Traffic never leaves these namespaces: the load generator runs in rpc-lb against its own
# loopback. Every process runs with `ip netns exec`; an app host is killed by SIGKILL to every pid
# in its namespace (`ip netns pids`), then its link goes down; a db host is powered off: its link
# down first, so no reset or close reaches anyone, then its processes SIGKILLed. Data: var/cluster/ (PostgreSQL's in
# /var/tmp when the postgres user cannot reach the tree). Whatever happens, the trap kills every
# process in the rpc-* namespaces and deletes them; a run starts by removing what an interrupted
# one left.
#
#   bash tests/cluster/run.sh BUILD_DIR    (BUILD_DIR: server, spooler, cron, migrate, admin,
#                                           tests/api_loadgen, tests/task_helper)
#
# Steps: 1. both app hosts serve, a session made on one is valid on the other, failed logins
# count across both, a FastCGI peer other than nginx is refused; 2. app1 killed and back (+ 5. the task spooled on it just before runs once
# when it is back; a run_once_per job runs on one host); 3. the PostgreSQL primary's host powered
# off: Patroni promotes, writes get 503 only during the switch, no committed row lost; db1 comes back
# as a replica; 4. the Redis master's host powered off: Sentinel promotes, sessions survive, no 500.
# Figures at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"
# shellcheck source=tests/cluster/netns.sh
source "$ROOT/tests/cluster/netns.sh"
cd "$ROOT"

BUILD=$(realpath "${1:-build}")
LOADGEN=$BUILD/tests/api_loadgen
HELPER=$BUILD/tests/task_helper
for b in server spooler cron migrate admin tests/api_loadgen tests/task_helper; do
    [ -x "$BUILD/$b" ] || die "usage: tests/cluster/run.sh BUILD_DIR ($BUILD/$b is missing)"
done
is_root || die "the cluster test needs root (ip netns)"

PREFIX=rpc-
NET=10.77.0
declare -A IP=([lb]=$NET.10 [app1]=$NET.21 [app2]=$NET.22 [db1]=$NET.11 [db2]=$NET.12
    [db3]=$NET.13)
HOSTS=(lb app1 app2 db1 db2 db3)
DBS=(db1 db2 db3)
VAR=$ROOT/var/cluster
PGBIN=/usr/lib/postgresql/15/bin
RUN_ID=$(date +%s)
START=$SECONDS
FIGURES=()  # the summary's lines
WORKERS=3   # per app host
LB=8080     # nginx in rpc-lb: both app hosts; 8081 app1 only, 8082 app2 only

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
note() { printf '==> [%3ds] %s\n' $((SECONDS - START)) "$*" >&2; }
figure() {
    FIGURES+=("$*")
    note "$*"
}
now_ms() { date +%s%3N; }

# figures RC: the block of figures the run has gathered (deploy/local.sh test shows it too).
figures() {
    printf '\n==== cluster test (tests/cluster/run.sh): %s in %d s ====\n' \
        "$([ "$1" = 0 ] && echo passed || echo FAILED)" $((SECONDS - START))
    [ ${#FIGURES[@]} -eq 0 ] || printf '  %s\n' "${FIGURES[@]}"
}

# poll SECONDS CMD...: CMD every 0.2 s until it succeeds; false after SECONDS.
poll() { wait_until "$@"; }

on() {  # on HOST CMD...: CMD in HOST's namespace
    local h=$1
    shift
    ip netns exec "$PREFIX$h" "$@"
}

# ---- namespaces: tests/cluster/netns.sh (kill_all, ns_remove_all, net_up, link, power_off)

cleanup() {
    local rc=$?
    trap '' INT TERM
    set +e
    mkdir -p "$VAR"
    figures "$rc" >"$VAR/figures.txt"
    cat "$VAR/figures.txt" >&2
    { exec 7>&-; } 2>/dev/null
    note "stopping: every process in the $PREFIX* namespaces, then the namespaces"
    ns_remove_all
    if [ "$rc" -eq 0 ]; then  # the databases and etcd (hundreds of MB); a failed run keeps them
        rm -rf "$VAR"/db*/etcd
        [ -z "${PGROOT:-}" ] || rm -rf "$PGROOT"/db*/data
    else
        note "logs: $VAR/"
    fi
    exit "$rc"
}

# kill_host HOST: SIGKILL to every process in its namespace (a machine that dies), then its link
# down (nothing reaches it any more: connections to it time out instead of being refused).
kill_host() {
    kill_all "$PREFIX$1"
    sleep 0.3
    link "$1" down
}

# start NAME HOST [env VAR=...] CMD...: CMD in HOST's namespace in the background, its output in
# $VAR/HOST/NAME.out, its pid in $VAR/HOST/NAME.pid.
start() {
    local name=$1 h=$2
    shift 2
    # Not through on(): a function would run in a subshell, whose pid $! would be.
    ip netns exec "$PREFIX$h" "$@" </dev/null >>"$VAR/$h/$name.out" 2>&1 7>&- &  # 7: load_start's
    echo $! >"$VAR/$h/$name.pid"
    disown $!  # no "Killed" line from bash when a host dies
}

# as_postgres CMD...: CMD as the postgres user (PostgreSQL refuses root), exec'd: same pid.
AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_postgres() { "${AS_POSTGRES[@]}" "$@"; }

# ---- db hosts: etcd, Patroni + PostgreSQL, redis, sentinel

# The settings of etcd, Patroni, Redis and Sentinel are provisioning's (deploy/lib.sh ha_*), with
# passwords of the test's own; only fsync is off here, and db3 is tagged (patroni_config).
DB_PEERS=$NET.11,$NET.12,$NET.13
DB_PASSWORD=Cluster1db REDIS_PASSWORD=Cluster1redis

etcd_start() {
    local h=$1 env
    mapfile -t env < <(ha_etcd_env "${IP[$h]}" "$DB_PEERS" "$VAR/$h/etcd" "${PREFIX}cluster")
    start etcd "$h" env "${env[@]}" etcd
}

etcd_healthy() { on "$1" curl -fsS --max-time 2 "http://${IP[$1]}:2379/health" | grep -q '"health":"true"'; }

# PGROOT: PostgreSQL's files, where the postgres user can reach them.
pg_root() {
    PGROOT=$VAR/pg
    if ! as_postgres test -x "$VAR"; then
        PGROOT=/var/tmp/restpie-cluster-$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)
        rm -rf "$PGROOT"
        ln -sfn "$PGROOT" "$VAR/pg"
    fi
    mkdir -p "$PGROOT"
    chmod 700 "$PGROOT"
    chown postgres:postgres "$PGROOT"
}

patroni_config() {
    local h=$1 nofailover=false
    # db3 never becomes primary (nor the synchronous replica): the Redis master lives there, so
    # step 4 loses Redis but not PostgreSQL's primary, and step 3 has one candidate.
    [ "$h" = db3 ] && nofailover=true
    mkdir -p "$PGROOT/$h"
    ha_post_bootstrap restpie restpie "$DB_PASSWORD" >"$PGROOT/$h/post_bootstrap.sh"
    chmod 750 "$PGROOT/$h/post_bootstrap.sh"
    {
        HA_SCOPE=${PREFIX}cluster HA_ADDRESS=${IP[$h]} HA_PEERS=$DB_PEERS HA_PORT=5432 \
            HA_DATA_DIR=$PGROOT/$h/data HA_BIN_DIR=$PGBIN HA_SOCKET_DIR=$PGROOT/$h \
            HA_PGPASS=$PGROOT/$h/pgpass HA_ALLOW=$NET.0/24 HA_DB_NAME=restpie HA_DB_USER=restpie \
            HA_SUPERUSER_PASSWORD=Cluster1super HA_REPLICATION_PASSWORD=Cluster1repl \
            HA_POST_BOOTSTRAP=$PGROOT/$h/post_bootstrap.sh HA_PARAMETERS="fsync: 'off'" ha_patroni_yml
        cat <<EOF
tags:
  nofailover: $nofailover
  nosync: $nofailover
EOF
    } >"$PGROOT/$h/patroni.yml"
    chown -R postgres:postgres "$PGROOT/$h"
}

patroni_start() { start patroni "$1" "${AS_POSTGRES[@]}" patroni "$PGROOT/$1/patroni.yml"; }

# pg_is HOST primary|replica: Patroni's REST API on HOST answers 200 for that role.
pg_is() { [ "$(on lb curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://${IP[$1]}:8008/$2")" = 200 ]; }

pg_primary() {
    local d
    for d in "${DBS[@]}"; do
        if pg_is "$d" primary; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

psql_on() {  # psql_on HOST SQL: as the app's user on HOST's PostgreSQL, unaligned
    on lb env PGPASSWORD="$DB_PASSWORD" "$PGBIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h "${IP[$1]}" \
        -U restpie -d restpie -c "$2"
}

redis_start() {
    local h=$1 master=$2 of=() key value
    mkdir -p "$VAR/$h/redis"
    while read -r key value; do
        # shellcheck disable=SC2206  # "replicaof HOST PORT": two words
        of+=("--$key" $value)
    done < <(ha_redis_settings "${IP[$h]}" "${IP[$master]}" 6379 "$REDIS_PASSWORD")
    start redis "$h" redis-server --bind "${IP[$h]}" 127.0.0.1 --port 6379 --protected-mode no \
        --save "" --appendonly no --dir "$VAR/$h/redis" --daemonize no "${of[@]}"
}

sentinel_start() {
    local h=$1 master=$2 conf=$VAR/$1/sentinel.conf
    if [ ! -f "$conf" ]; then  # sentinel rewrites its file with what it learns: kept on a restart
        {
            printf 'daemonize no\ndir %s\n' "$VAR/$h/redis"
            ha_sentinel_conf "${IP[$h]}" "${IP[$master]}" 6379 "${#DBS[@]}" "$REDIS_PASSWORD"
        } >"$conf"
    fi
    start sentinel "$h" redis-sentinel "$conf"
}

host_of() {  # host_of ADDRESS: the host name
    local h
    for h in "${HOSTS[@]}"; do [ "${IP[$h]}" != "$1" ] || { echo "$h"; return 0; }; done
    fail "no host has the address '$1'"
}

redis_master() {  # the master's address, as the sentinel on HOST sees it
    on "$1" redis-cli -h "${IP[$1]}" -p 26379 --raw sentinel get-master-addr-by-name restpie 2>/dev/null |
        head -n 1
}

# db_start HOST REDIS_MASTER: every service of a db host.
db_start() {
    etcd_start "$1"
    patroni_start "$1"
    redis_start "$1" "$2"
    sentinel_start "$1" "$2"
}

# ---- app hosts: server, spooler, cron

# app_env HOST: the app's settings for HOST as APP_ overrides of the template config (README
# "Configuration"): every PostgreSQL host (libpq finds the primary), the Sentinels, and the load
# balancer as the only peer allowed on the FastCGI port.
app_env() {
    local h=$1 d dbs="" sentinels=""
    for d in "${DBS[@]}"; do
        dbs+="${dbs:+,}${IP[$d]}"
        sentinels+="${sentinels:+,}${IP[$d]}:26379"
    done
    APP_ENV=(APP_CONFIG="$ROOT/conf/server-config.json" APP_LOCAL_DEV=false APP_PRODUCTION=false
        APP_TEST_MODE=true APP_LISTEN="${IP[$h]}:9000" APP_WORKERS="$WORKERS"
        APP_FCGI_WEB_SERVER_ADDRS="${IP[lb]}" APP_DB_HOST="$dbs" APP_DB_PORT=5432
        APP_DB_NAME=restpie APP_DB_USER=restpie APP_DB_PASSWORD="$DB_PASSWORD" APP_DB_CONNECT_TIMEOUT_S=2
        APP_REDIS_SENTINELS="$sentinels" APP_REDIS_MASTER_NAME=restpie APP_REDIS_PASSWORD="$REDIS_PASSWORD"
        APP_REDIS_CONNECT_TIMEOUT_MS=500 APP_REDIS_TIMEOUT_MS=1000
        APP_LOG_FILE="$VAR/$h/app.log" APP_SPOOL_DIR="$VAR/$h/spool"
        APP_STATS_LISTEN="unix:$VAR/$h/stats.sock"
        APP_SPOOLER_STATS_LISTEN="unix:$VAR/$h/spooler-stats.sock"
        APP_CRON_STATS_LISTEN="unix:$VAR/$h/cron-stats.sock" APP_METRICS_LISTEN=127.0.0.1:9117
        APP_RELOAD_FILE= APP_RELOAD_ON_REBUILD=false APP_SESSION_COOKIE_SECURE=false
        APP_LOGIN_FAIL_LIMIT_EMAIL=4 APP_SPOOLER_SCAN_SECONDS=1)
}

app_run() {  # app_run HOST CMD...: CMD in HOST's namespace with its app settings
    local h=$1
    shift
    app_env "$h"
    on "$h" env "${APP_ENV[@]}" "$@"
}

app_start() {
    local h=$1 b
    mkdir -p "$VAR/$h/spool"
    app_env "$h"
    for b in server spooler cron; do
        start "$b" "$h" env "${APP_ENV[@]}" "$BUILD/$b"
    done
}

# lb_curl PORT PATH [CURL ARGS...]: curl to nginx, from the load balancer's host.
lb_curl() {
    local port=$1 path=$2
    shift 2
    on lb curl -sS --max-time 10 "$@" "http://127.0.0.1:$port$path"
}
lb_status() { lb_curl "$1" "$2" -o /dev/null -w '%{http_code}' "${@:3}" || true; }

app_healthy() { [ "$(lb_status "$1" /api/health)" = 200 ]; }

# requests_served HOST: the requests HOST's server has answered (its Prometheus metrics).
requests_served() {
    on "$1" curl -fsS --max-time 3 http://127.0.0.1:9117/metrics |
        awk '/^restpie_http_requests_total\{/ { n += $2 } END { printf "%d\n", n }'
}

# login PORT EMAIL PASSWORD: prints the session cookie ("session=...") a login gets.
login() {
    lb_curl "$1" /api/login -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$2\",\"password\":\"$3\"}" |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(session=[^;]*\);.*/\1/p' | head -n 1
}

lb_start() {
    mkdir -p "$VAR/lb/tmp"
    sed -e "s|@VAR@|$VAR/lb|g" -e "s|@APP1@|${IP[app1]}|g" -e "s|@APP2@|${IP[app2]}|g" \
        tests/cluster/lb.conf.in >"$VAR/lb/nginx.conf"
    on lb nginx -t -q -p "$VAR/lb/" -c nginx.conf -e "$VAR/lb/error.log" ||
        fail "bad nginx config: $VAR/lb/nginx.conf"
    start nginx lb nginx -p "$VAR/lb/" -c nginx.conf -e "$VAR/lb/error.log" -g 'daemon off;'
    poll 10 on lb curl -fsS -o /dev/null http://127.0.0.1:$LB/lb-alive || fail "nginx does not answer"
}

# ---- the load: api_loadgen in rpc-lb against nginx

# load_start NAME PATH MIN [post]: 600 requests/s from 8 threads, LOADGEN_COOKIE, _BODY and _LOG
# from the environment; runs until load_stop (fd 7
# holds its stdin open) and MIN requests are done, 150 s at most. Its output: $VAR/NAME.load.
load_start() {
    local name=$1
    rm -f "$VAR/$name.fifo" "$VAR/$name.load"
    mkfifo "$VAR/$name.fifo"
    ip netns exec "${PREFIX}lb" env API_BASE_URL=http://127.0.0.1:$LB LOADGEN_RATE=600 "$LOADGEN" "$2" 8 "$3" 150 ${4:+post} \
        <"$VAR/$name.fifo" >"$VAR/$name.load" 2>&1 &
    LOAD_PID=$!
    exec 7>"$VAR/$name.fifo"
}
load_done() { awk '$1 == "progress" || $1 == "total" { n = $2 } END { print n + 0 }' "$VAR/$1.load"; }
load_at_least() { [ "$(load_done "$1")" -ge "$2" ]; }
# load_stop NAME: lets it finish; its codes line in CODES (not a $(...): fd 7 is the shell's own).
load_stop() {
    exec 7>&-
    poll 160 grep -q '^total ' "$VAR/$1.load" || fail "the load $1 did not end"
    wait "$LOAD_PID" || true
    CODES=$(grep '^codes ' "$VAR/$1.load" | cut -d' ' -f2-)
}
code_count() {  # code_count NAME KEY: a field of the codes line (2xx, 503, conn_errors ...)
    grep '^codes ' "$VAR/$1.load" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { n = $2 } END { print n + 0 }'
}

# ---- the steps

step1() {
    note "step 1: both app hosts serve; sessions and throttling across them"
    local a1 a2 b1 b2 cookie codes
    a1=$(requests_served app1) a2=$(requests_served app2)
    load_start step1 /api/movies/ 2000
    load_stop step1
    codes=$CODES
    b1=$(requests_served app1) b2=$(requests_served app2)
    figure "step 1: GET /api/movies/ through nginx: $codes; app1 served $((b1 - a1)), app2 $((b2 - a2))"
    { [ "$(code_count step1 sent)" -ge 2000 ] && [ "$(code_count step1 2xx)" = "$(code_count step1 sent)" ]; } ||
        fail "step 1: requests failed: $codes"
    { [ $((b1 - a1)) -ge 200 ] && [ $((b2 - a2)) -ge 200 ]; } ||
        fail "step 1: one app host took (almost) no load: app1 $((b1 - a1)), app2 $((b2 - a2))"

    cookie=$(login 8081 "$EDITOR" "$PASSWORD")
    [ -n "$cookie" ] || fail "step 1: no session from a login on app1"
    [ "$(lb_status 8082 /api/me -H "Cookie: $cookie")" = 200 ] ||
        fail "step 1: a session made on app1 is not valid on app2"
    figure "step 1: a session made through app1 is valid on app2"

    # login_fail_limit_email is 4: two failures on each host, then both hosts refuse (429).
    local port s statuses=
    for port in 8081 8082 8081 8082 8081 8082; do
        s=$(lb_status $port /api/login -H 'Content-Type: application/json' \
            -d "{\"email\":\"throttle-$RUN_ID@cluster.test\",\"password\":\"Wrong1pass\"}")
        statuses+="$s "
    done
    [ "$statuses" = "400 400 400 400 429 429 " ] ||
        fail "step 1: failed logins do not count across hosts: $statuses(want 400 x4, 429 x2)"
    figure "step 1: failed logins alternating app1/app2: $statuses(limit 4 per email)"

    # fcgi_web_server_addrs: app2 is no web server, so app1 closes its FastCGI connection at once.
    local refused
    refused=$(on app2 timeout 5 bash -c "exec 3<>/dev/tcp/${IP[app1]}/9000 && cat <&3 | wc -c") ||
        fail "step 1: app1's FastCGI port does not close a connection from app2"
    poll 5 grep -q "refused a FastCGI connection from ${IP[app2]}" "$VAR/app1/app.log" ||
        fail "step 1: no log line for the refused peer ${IP[app2]}"
    figure "step 1: a FastCGI connection from app2 to app1 closed at once ($refused bytes), logged"
}

step2() {
    note "step 2: app1 killed under load, then back"
    local codes t_kill failed a1 b1 task="step5-$RUN_ID@cluster.test"
    load_start step2 /api/movies/ 2500
    poll 30 load_at_least step2 300 || fail "step 2: the load does not start"
    # Step 5's task: spooled on app1 to run in 2 s, which app1 does not live to see.
    app_run app1 "$BUILD/admin" spool send_email "{\"to\":\"$task\",\"subject\":\"cluster\",\"body\":\"step 5\"}" \
        --in 2 >/dev/null || fail "step 5: admin spool failed on app1"
    t_kill=$(load_done step2)
    kill_host app1
    count_task() { grep -c "send_email to $task" "$VAR/$1/app.log" 2>/dev/null || true; }
    [ "$(count_task app1)" = 0 ] || fail "step 5: the task ran before app1's kill"
    note "step 2: app1 killed and its link down after $t_kill requests"
    # Down for 5 s: past nginx's fail_timeout (2 s), so it tries app1 again while it is gone.
    sleep 5
    load_at_least step2 $((t_kill + 500)) || fail "step 2: the load stalls with app1 down"
    link app1 up
    app_start app1
    poll 30 app_healthy 8081 || fail "step 2: app1 does not answer after its restart"
    note "step 2: app1 back at $(load_done step2) requests"
    a1=$(requests_served app1)
    takes_load() { b1=$(requests_served app1) && [ $((b1 - a1)) -ge 200 ]; }
    poll 20 takes_load || fail "step 2: app1 takes no load after its return ($((b1 - a1)) requests)"
    load_stop step2
    codes=$CODES
    failed=$(($(code_count step2 sent) - $(code_count step2 2xx)))
    figure "step 2: GET load with app1 killed and back: $codes; failed $failed (at most $WORKERS: app1's workers); app1 served $((b1 - a1)) after its return"
    [ "$(code_count step2 sent)" -ge 2000 ] || fail "step 2: fewer than 2,000 requests"
    [ "$failed" -le "$WORKERS" ] || fail "step 2: $failed GETs failed with app1 killed"

    note "step 5: the task spooled on app1 before it died runs there once"
    local ran
    task_ran() { [ "$(count_task app1)" -ge 1 ]; }
    poll 30 task_ran || fail "step 5: the task spooled on app1 never ran"
    sleep 5  # a second run would come within the spooler's scan and the task's 3 s
    ran="app1 $(count_task app1), app2 $(count_task app2)"
    [ "$ran" = "app1 1, app2 0" ] || fail "step 5: the spooled task ran: $ran (want app1 1, app2 0)"
    figure "step 5: the task spooled on app1 before its kill ran once when it was back ($ran)"
}

# step5_cron: the one-server guard: task_helper's test_guard job (every second, run_once_per
# over 30 days, a key of this run) in a cron process on each app host, for 5 s.
step5_cron() {
    note "step 5: a run_once_per job on both app hosts"
    local h dir ran skips=
    for h in app1 app2; do
        dir=$VAR/$h/guard-$RUN_ID  # one basename on both: one guard key
        mkdir -p "$dir"
        app_env "$h"
        start guard-cron "$h" env "${APP_ENV[@]}" APP_CRON_STATS_LISTEN= TASK_TEST_DIR="$dir" \
            TEST_CRON_JOBS=test_guard "$HELPER" cron
    done
    sleep 5
    for h in app1 app2; do
        kill -s KILL "$(<"$VAR/$h/guard-cron.pid")"
        skips+="$h $(grep -c '^skip' "$VAR/$h/guard-$RUN_ID/guard" 2>/dev/null || true) "
    done
    ran=$(cat "$VAR"/app*/guard-"$RUN_ID"/guard 2>/dev/null | grep -c '^ran' || true)
    figure "step 5: run_once_per job every second on both hosts for 5 s: ran $ran time(s); skipped: $skips"
    [ "$ran" = 1 ] || fail "step 5: the run_once_per job ran $ran times (want 1)"
    [[ $skips =~ ^app1\ [1-9][0-9]*\ app2\ [1-9] ]] || fail "step 5: a host never ran the job: $skips"
}

# failover STEP HOST OK WHAT PROMOTED...: under the load STEP (load_start'ed, with LOADGEN_LOG
# $VAR/STEP.log), powers HOST off (power_off) once 300 requests are done, waits until the command PROMOTED
# succeeds and 300 requests started after it got status OK, stops the load and checks it: 2,000
# requests at least, every one OK or 503, and no failure before the kill. Prints the figures.
failover() {
    local step=$1 host=$2 ok=$3 what=$4 t_kill t_new first last n label="step ${1#step}"
    shift 4
    poll 30 load_at_least "$step" 300 || fail "$label: the load does not start"
    t_kill=$(now_ms)
    power_off "$host"
    note "$label: $host powered off (cut off, then killed)"
    poll 60 "$@" || fail "$label: no replica promoted within 60 s"
    t_new=$(now_ms)
    figure "$label: $what promoted $((t_new - t_kill)) ms after $host's power-off"
    ok_after() { [ "$(awk -v t="$t_new" -v s="$ok" '$1 > t && $3 == s' "$VAR/$step.log" | wc -l)" -ge 300 ]; }
    poll 90 ok_after || fail "$label: no success after the promotion"
    load_stop "$step"
    # The failed requests: the first one's start and the last one's end, after the kill.
    read -r first last n <<<"$(awk -v k="$t_kill" -v s="$ok" '$3 != s {
            n++; if (!f || $1 < f) f = $1; if ($2 > l) l = $2 }
        END { if (n) printf "%d %d %d\n", f - k, l - k, n; else print "0 0 0" }' "$VAR/$step.log")"
    figure "$label: $CODES"
    figure "$label: $n requests failed, from $first ms to $last ms after the kill"
    [ "$(code_count "$step" sent)" -ge 2000 ] || fail "$label: fewer than 2,000 requests"
    [ $(($(code_count "$step" 2xx) + $(code_count "$step" 503))) = "$(code_count "$step" sent)" ] ||
        fail "$label: replies other than $ok and 503: $CODES"
    [ "$n" = 0 ] || [ "$first" -ge -200 ] || fail "$label: requests failed before the kill"
    # ... and only during the switch: none later than 10 s after the promotion.
    [ "$last" -le $((t_new - t_kill + 10000)) ] || fail "$label: requests fail long after the promotion"
}

step3() {
    note "step 3: the PostgreSQL primary's host powered off under writes"
    local cookie lost
    [ "$(pg_primary)" = db1 ] || fail "step 3: the primary is not db1"
    cookie=$(login 8080 "$EDITOR" "$PASSWORD")
    [ -n "$cookie" ] || fail "step 3: the editor's login failed"
    LOADGEN_COOKIE=$cookie LOADGEN_LOG=$VAR/step3.log \
        LOADGEN_BODY="{\"title\":\"cluster\",\"director\":\"step3-$RUN_ID\"}" \
        load_start step3 /api/movies/ 2000 post
    failover step3 db1 201 "PostgreSQL (Patroni): db2" pg_is db2 primary
    # Every 201 the clients saw is a row on the new primary.
    grep -o ' 201 .*"id":"[0-9]*"' "$VAR/step3.log" | sed 's/.*"id":"\([0-9]*\)"/\1/' |
        sort -u >"$VAR/step3.ids"
    psql_on db2 "SELECT id FROM movies WHERE director = 'step3-$RUN_ID'" | sort -u >"$VAR/step3.rows"
    lost=$(comm -23 "$VAR/step3.ids" "$VAR/step3.rows" | wc -l)
    # A row more than 201s: a commit whose reply was lost with the connection (its client got a 503).
    figure "step 3: $(wc -l <"$VAR/step3.ids") writes answered 201, $(wc -l <"$VAR/step3.rows") rows on the new primary, $lost lost"
    [ "$(wc -l <"$VAR/step3.ids")" = "$(code_count step3 2xx)" ] || fail "step 3: 201s without an id"
    [ "$lost" = 0 ] || fail "step 3: $lost committed rows are not on the new primary"

    note "step 3: db1 back, as a replica"
    link db1 up
    # With its data as the kill left it: Patroni clones it anew if its timeline diverged.
    db_start db1 "$(host_of "$(redis_master db2)")"
    poll 30 etcd_healthy db1 || fail "step 3: etcd on db1 does not come back"
    poll 90 pg_is db1 replica || fail "step 3: db1 does not come back as a replica"
    figure "step 3: db1 back as a replica$(grep -q 'reinitializing due to diverged timelines' "$VAR/db1/patroni.out" && echo ', cloned anew: its timeline had diverged')"
}

step4() {
    note "step 4: the Redis master's host powered off under logged-in reads"
    local master cookies=() i lost=0
    master=$(redis_master db1)
    [ "$master" = "${IP[db3]}" ] || fail "step 4: the Redis master is $master, not db3"
    for i in 1 2 3 4 5; do cookies+=("$(login 8080 "$EDITOR" "$PASSWORD")"); done
    sleep 1  # replicated (asynchronously) to the replicas
    LOADGEN_COOKIE=${cookies[0]} LOADGEN_LOG=$VAR/step4.log load_start step4 /api/me 2000
    new_master() { master=$(redis_master db1) && [ -n "$master" ] && [ "$master" != "${IP[db3]}" ]; }
    failover step4 db3 200 "Redis (Sentinel): a replica" new_master
    for i in "${!cookies[@]}"; do
        [ "$(lb_status 8080 /api/me -H "Cookie: ${cookies[i]}")" = 200 ] || lost=$((lost + 1))
    done
    figure "step 4: of 5 sessions made 1 s before the kill, $lost lost (new master $master)"
    [ "$lost" = 0 ] || fail "step 4: $lost sessions lost"
}

# ---- main

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ns_remove_all  # what an interrupted run left
if [ -d "$VAR/pg" ] || [ -L "$VAR/pg" ]; then rm -rf "$(readlink -f "$VAR/pg")"; fi
rm -rf "$VAR"
mkdir -p "$VAR"
for h in "${HOSTS[@]}"; do mkdir -p "$VAR/$h"; done
EDITOR=editor-$RUN_ID@cluster.test
PASSWORD=Cluster1pass

note "network: ${PREFIX}net with br0 and ${HOSTS[*]}"
net_up "${HOSTS[@]}"
pg_root
note "db hosts: etcd, Patroni (db1 first: the primary), redis (db3: the master), sentinels"
for d in "${DBS[@]}"; do etcd_start "$d"; done
for d in "${DBS[@]}"; do poll 30 etcd_healthy "$d" || fail "etcd on $d is not healthy"; done
for d in "${DBS[@]}"; do patroni_config "$d"; done
patroni_start db1
poll 60 pg_is db1 primary || fail "Patroni on db1 did not bootstrap a primary"
# The app's role and database: made by the post_bootstrap script, as on provisioned hosts.
patroni_start db2
patroni_start db3
for d in db3 db1 db2; do redis_start "$d" db3; done
for d in "${DBS[@]}"; do sentinel_start "$d" db3; done
for d in db2 db3; do poll 90 pg_is "$d" replica || fail "Patroni on $d did not start a replica"; done
note "migrations, once, against the primary"
app_run app1 "$BUILD/migrate" up >"$VAR/app1/migrate.out" 2>&1 || fail "migrate failed: $(tail -5 "$VAR/app1/migrate.out")"
app_run app1 "$BUILD/admin" create-user "$EDITOR" "$PASSWORD" editor >/dev/null ||
    fail "admin create-user failed"
note "load balancer and app hosts"
lb_start
app_start app1
app_start app2
poll 30 app_healthy 8081 || fail "app1 does not answer"
poll 30 app_healthy 8082 || fail "app2 does not answer"
figure "cluster up in $((SECONDS - START)) s"

step1
step2
step5_cron
step3
step4

