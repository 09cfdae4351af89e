#!/usr/bin/env bash
# local.sh: a private stack for development and tests under var/<env>/ (PostgreSQL, Redis, nginx,
# the server), on its own ports, so it never meets a system service. Processes are stopped by
# their pid files only, and only those this invocation started.
#
#   deploy/local.sh run               install what is missing, build, start the dev stack, migrate,
#                                     run the server, spooler and cron (log on the console);
#                                     Ctrl-C (or SIGTERM) stops everything it started
#   deploy/local.sh test              the same on the test stack, in the background, then the
#                                     tests in stages: 1. every ctest suite of build/; 2. the unit
#                                     and api suites of build-san/ (AddressSanitizer and UBSan; the
#                                     stack's server, spooler and cron from build-san/ too), which
#                                     also fails on any sanitizer report; 3. deploy/fuzz.sh when it
#                                     exists. Stops it all, prints a line per stage and exits
#                                     non-zero when a stage failed. SANITIZE=0 skips stage 2,
#                                     FUZZ=0 stage 3: SANITIZE=0 FUZZ=0 deploy/local.sh test
#   deploy/local.sh test CTEST_ARGS   a focused run: only the suites ctest selects, on build/,
#                                     e.g. `test -L api` or `test -R tasks` (no stages 2 and 3)
#   deploy/local.sh stack [dev|test]  start the stack without the server and leave it running;
#                                     prints the environment: eval "$(deploy/local.sh stack test)"
#   deploy/local.sh stop [dev|test]   stop what an earlier invocation left running (default: both)
#
#   env    http   postgres  redis   metrics  files
#   dev    8100   54320     63790   9110     var/dev/{run,log,pg,redis,nginx}
#   test   8101   54321     63791   9111     var/test/...   (TEST_SLOT=N: ports +10*N, var/testN)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"
cd "$ROOT"

PGBIN=/usr/lib/postgresql/15/bin
DB_NAME=restpie
DB_USER=restpie
STARTED=()       # what this invocation started, stopped in reverse order on exit
SERVER_PID=
BUILD=build      # the build tree whose server, spooler, cron and migrate run: build or build-san
STAGES=()        # test: a summary line per stage
TEST_RC=0        # test: the status of the first stage that failed

usage() {
    sed -n '6,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# select_env dev|test: the ports and paths of one stack.
select_env() {
    ENV_NAME=$1
    case "$ENV_NAME" in
        dev) HTTP_PORT=8100 PG_PORT=54320 REDIS_PORT=63790 METRICS_PORT=9110 ;;
        # TEST_SLOT=N gives a second test stack (ports +10*N, var/testN) for parallel work.
        test) local n=${TEST_SLOT:-0}
              [[ $n =~ ^[0-9]$ ]] || die "TEST_SLOT must be a digit"
              HTTP_PORT=$((8101 + 10 * n)) PG_PORT=$((54321 + 10 * n)) REDIS_PORT=$((63791 + 10 * n))
              METRICS_PORT=$((9111 + 10 * n)) ;;
        *) die "unknown environment '$ENV_NAME' (dev or test)" ;;
    esac
    VAR=$ROOT/var/$ENV_NAME
    # TEST_SLOT is the test stacks' only: the dev stack keeps its ports and var/dev whatever it says.
    if [ "$ENV_NAME" = test ]; then VAR=$VAR${TEST_SLOT:-}; fi
    RUN=$VAR/run
    LOG=$VAR/log
    SPOOL=$VAR/spool
    APP_SOCK=$RUN/app.sock
    NGINX_DIR=$VAR/nginx
}

check_paths() {
    # The path goes unquoted into nginx.conf and pg_ctl -o, and unix socket paths end at 107 bytes.
    [[ $ROOT =~ ^[A-Za-z0-9_./+@~-]+$ ]] ||
        die "the project path has spaces or special characters; move it: $ROOT"
    [ ${#VAR} -le 80 ] || die "the project path is too long for unix sockets; move it: $ROOT"
}

# BUILD_TARGETS="server api_tests ..." builds only those targets (and what they need), BUILD_JOBS
# sets the parallel jobs (default: the cores); tests/fork/run.sh uses both to keep its build short.
build() {
    say "building (build/${BUILD_TARGETS:+: $BUILD_TARGETS})"
    # Output to stderr: `stack` keeps stdout for the environment it prints.
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >&2
    # shellcheck disable=SC2086  # a list of targets
    cmake --build build -j"${BUILD_JOBS:-$(nproc)}" ${BUILD_TARGETS:+--target $BUILD_TARGETS} >&2
}

export_app_env() {
    export APP_CONFIG=${APP_CONFIG:-$ROOT/conf/server-config.json}
    export APP_LOCAL_DEV=true APP_PRODUCTION=false APP_TEST_MODE=false
    export APP_LISTEN=unix:$APP_SOCK
    # PostgreSQL and Redis are reached over their unix sockets (about 10% more requests/s than
    # TCP loopback); APP_DB_HOST becomes the socket directory once pg_start has located it.
    export APP_DB_HOST=127.0.0.1 APP_DB_PORT=$PG_PORT APP_DB_NAME=$DB_NAME APP_DB_USER=$DB_USER
    export APP_DB_PASSWORD=  # trust auth on the private cluster (socket and 127.0.0.1)
    export APP_REDIS_HOST=$RUN/redis.sock APP_REDIS_PORT=$REDIS_PORT
    export APP_LOG_FILE=  # empty: the console
    export APP_SPOOL_DIR=$SPOOL
    export APP_STATS_LISTEN=unix:$RUN/stats.sock  # build/server --stats, --reload
    export APP_SPOOLER_STATS_LISTEN=unix:$RUN/spooler-stats.sock  # build/spooler --reload
    export APP_CRON_STATS_LISTEN=unix:$RUN/cron-stats.sock  # build/cron --stats, --reload
    export APP_METRICS_LISTEN=127.0.0.1:$METRICS_PORT  # nginx's /metrics, from 127.0.0.1 only
    if [ "$ENV_NAME" = test ]; then
        export APP_TEST_MODE=true
        export APP_LOG_FILE=$LOG/app.log  # the tests grep it
        export APP_RELOAD_FILE=$RUN/RESTART  # one per stack, not the shared ./RESTART
    fi
    export API_BASE_URL=http://127.0.0.1:$HTTP_PORT
    export SERVER_PID_FILE=$RUN/server.pid
}

print_env() {
    local v
    for v in APP_CONFIG APP_LOCAL_DEV APP_PRODUCTION APP_TEST_MODE APP_LISTEN APP_DB_HOST \
        APP_DB_PORT APP_DB_NAME APP_DB_USER APP_DB_PASSWORD APP_REDIS_HOST APP_REDIS_PORT \
        APP_LOG_FILE APP_SPOOL_DIR APP_STATS_LISTEN APP_SPOOLER_STATS_LISTEN APP_CRON_STATS_LISTEN \
        APP_METRICS_LISTEN API_BASE_URL SERVER_PID_FILE; do
        printf 'export %s=%q\n' "$v" "${!v}"
    done
}

# ---- PostgreSQL: refuses to run as root, so as root it runs as the postgres user.

as_pg() {
    # From /, as the postgres user may not be able to enter our working directory.
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_admin() {
    PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

# pg_locate: PG_DIR (socket, log, data/) is var/<env>/pg, or where its symlink points.
pg_locate() {
    PG_DIR=$(readlink -f "$VAR/pg" 2>/dev/null || true)
    PGDATA=$PG_DIR/data
}

pg_make_dir() {
    if [ ! -e "$VAR/pg" ] && [ ! -L "$VAR/pg" ]; then
        if is_root && ! (cd / && runuser -u postgres -- test -x "$VAR"); then
            local real
            real=/var/tmp/restpie-$(printf '%s' "$ROOT" | sha1sum | cut -c1-8)-$(basename "$VAR")
            ln -s "$real" "$VAR/pg"
            say "var/$ENV_NAME/pg links to $real: the postgres user cannot reach $ROOT"
        else
            mkdir "$VAR/pg"
        fi
    fi
    # Our link points into world-writable /var/tmp: what we find there must be a directory of
    # root's or postgres's, never someone's symlink to elsewhere.
    PG_DIR=$VAR/pg
    [ -L "$PG_DIR" ] && PG_DIR=$(readlink "$PG_DIR")
    [ -L "$PG_DIR" ] && die "$PG_DIR is a symlink we did not make; remove it"
    [ -d "$PG_DIR" ] || mkdir -m 700 "$PG_DIR"
    if is_root; then
        case "$(stat -c %U "$PG_DIR")" in
            root | postgres) chown postgres:postgres "$PG_DIR" ;;
            *) die "$PG_DIR belongs to someone else; remove it" ;;
        esac
    fi
    PGDATA=$PG_DIR/data
    chmod 700 "$PG_DIR"
    ln -sfn "$PG_DIR/postgres.log" "$LOG/postgres.log"
}

pg_running() {
    [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_start() {
    pg_make_dir
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        say "creating the database cluster in $PGDATA"
        as_pg rm -rf "$PGDATA"  # what an interrupted initdb left
        as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust \
            >"$LOG/initdb.log" 2>&1 || { tail_log "$LOG/initdb.log"; die "initdb failed"; }
        # Trust, but only on the private socket (mode 700 dir) and on 127.0.0.1.
        printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' |
            as_pg tee "$PGDATA/pg_hba.conf" >/dev/null
    fi
    if pg_running; then
        say "postgres already runs on port $PG_PORT: using it (and leaving it running)"
        return 0
    fi
    say "starting postgres on 127.0.0.1:$PG_PORT"
    local opts="-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1"
    # Test data is thrown away, so skip the disk syncs.
    [ "$ENV_NAME" = test ] &&
        opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    STARTED+=(pg)
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG_DIR/postgres.log" -o "$opts" -w -t 60 start >&2 ||
        { tail_log "$PG_DIR/postgres.log"; die "postgres did not start"; }
    wait_until 30 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || die "postgres is not ready"
}

# pg_setup_db [fresh]: creates the role and the database if missing; fresh: recreates the database.
pg_setup_db() {
    if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]; then
        say "creating role $DB_USER"
        psql_admin -c "CREATE ROLE $DB_USER LOGIN"
    fi
    if [ "${1:-}" = fresh ]; then
        say "recreating database $DB_NAME (tests start from an empty schema)"
        psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)"
    fi
    if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
        say "creating database $DB_NAME"
        psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
    fi
}

pg_stop() {
    pg_locate
    [ -n "$PG_DIR" ] && pg_running || return 0
    say "stopping postgres (port $PG_PORT)"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >&2 || warn "pg_ctl stop failed"
}

# ---- Redis

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_start() {
    local pid
    if pid=$(live_pid "$RUN/redis.pid"); then
        say "redis already runs (pid $pid): using it (and leaving it running)"
        return 0
    fi
    redis_ping && die "port $REDIS_PORT answers, but not with our redis: who runs there?"
    mkdir -p "$VAR/redis"
    # dev keeps an RDB file in var/dev/redis across restarts; test needs nothing kept.
    local keep=(--save "" --appendonly no)
    [ "$ENV_NAME" = dev ] && keep=(--save "300 1 60 1000" --dbfilename dump.rdb)
    say "starting redis on 127.0.0.1:$REDIS_PORT"
    STARTED+=(redis)
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
        --unixsocket "$RUN/redis.sock" --unixsocketperm 700 \
        --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" --dir "$VAR/redis" "${keep[@]}" ||
        die "redis-server failed"
    if ! wait_until 10 redis_ping || ! wait_until 5 live_pid "$RUN/redis.pid"; then
        tail_log "$LOG/redis.log"
        die "redis did not start"
    fi
}

redis_stop() {
    local pid
    pid=$(live_pid "$RUN/redis.pid") || return 0
    stop_pid redis "$pid" TERM 30  # dev: saves the RDB file on the way out
}

# ---- nginx

nginx_cmd() { nginx -p "$NGINX_DIR/" -c nginx.conf -e "$LOG/nginx-error.log" "$@"; }

nginx_start() {
    mkdir -p "$NGINX_DIR/tmp"
    local user_line=
    # As root, the workers would run as nobody, who can reach neither the app socket nor conf/
    # when the project is under /root.
    is_root && user_line='user root;'
    # Kept connections to the app by default; FASTCGI_KEEP_CONN=off: one connection per request
    # (to compare; see README "Kept connections").
    local keep=${FASTCGI_KEEP_CONN:-on}
    [[ $keep == on || $keep == off ]] || die "FASTCGI_KEEP_CONN must be on or off"
    sed -e "s|@USER_LINE@|$user_line|" -e "s|@ROOT@|$ROOT|g" -e "s|@VAR@|$VAR|g" \
        -e "s|@PORT@|$HTTP_PORT|g" -e "s|@KEEP_CONN@|$keep|g" -e "s|@METRICS@|$APP_METRICS_LISTEN|g" \
        nginx/local.conf.in >"$NGINX_DIR/nginx.conf"
    nginx_cmd -t -q || die "bad nginx config: $NGINX_DIR/nginx.conf"
    local pid
    if pid=$(live_pid "$RUN/nginx.pid"); then
        say "nginx already runs (pid $pid): reloading its config (and leaving it running)"
        kill -HUP "$pid"
        return 0
    fi
    say "starting nginx on http://127.0.0.1:$HTTP_PORT"
    STARTED+=(nginx)
    nginx_cmd || { tail_log "$LOG/nginx-error.log"; die "nginx did not start"; }
    wait_until 10 curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/robots.txt" ||
        { tail_log "$LOG/nginx-error.log"; die "nginx does not answer on $HTTP_PORT"; }
}

nginx_stop() {
    local pid
    pid=$(live_pid "$RUN/nginx.pid") || return 0
    stop_pid nginx "$pid" QUIT 15  # QUIT: finish the requests in flight
}

# ---- the app's processes: server, spooler and cron. Each runs in its own
# session (setsid), so a Ctrl-C reaches only this script, which stops them in order, and whatever
# is left of a process group after its leader exits can be killed as one.

# proc_start NAME OUT [ARGS...]: starts $BUILD/NAME in the background, its output appended to
# the file OUT ("-": our own), its pid in run/NAME.pid.
proc_start() {
    local name=$1 out=$2
    shift 2
    [ -x "$BUILD/$name" ] || die "$BUILD/$name is missing: the build did not make it"
    STARTED+=("$name")
    if [ "$out" = - ]; then
        setsid "$BUILD/$name" "$@" </dev/null &
    else
        setsid "$BUILD/$name" "$@" </dev/null >>"$out" 2>&1 &
    fi
    echo $! >"$RUN/$name.pid"
}

# ours PID NAME: PID runs NAME from build/ or build-san/ (a pid file can outlive its process, and
# pids get reused).
ours() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -Eq "build(-san)?/$2"; }

# group_leftovers PGID: the processes of group PGID that run a binary from our build/ or build-san/.
group_leftovers() {
    local f pid stat pgrp exe
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue
        read -r _ _ pgrp _ <<<"${stat##*) }"  # after the command name: state ppid pgrp
        [ "$pgrp" = "$1" ] || continue
        pid=${f#/proc/}
        pid=${pid%/stat}
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        [[ $exe == "$ROOT/build/"* || $exe == "$ROOT/build-san/"* ]] && echo "$pid"
    done
    return 0
}

proc_stop() {
    local name=$1 pid left i
    pid=$(tr -dc 0-9 2>/dev/null <"$RUN/$name.pid") || true
    [ -n "$pid" ] || return 0
    if is_running "$pid" && ours "$pid" "$name"; then
        stop_pid "$name" "$pid" TERM 35  # the server's own grace for requests in flight is 30 s
        wait "$pid" 2>/dev/null || true  # reap it, when it is our child
    fi
    # Workers that outlive their master (it crashed or was killed) would keep the socket.
    for ((i = 0; i < 25; i++)); do
        left=$(group_leftovers "$pid")
        [ -z "$left" ] && break
        sleep 0.2
    done
    if [ -n "$left" ]; then
        warn "$name left processes behind: SIGKILL to ${left//$'\n'/ }"
        # shellcheck disable=SC2086  # a list of pids
        kill -s KILL $left 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
}

server_stop() { proc_stop server; }
cron_stop() { proc_stop cron; }
spooler_stop() { proc_stop spooler; }

# app_start: the server, spooler and cron from $BUILD/, in the background (test); waits until the
# server answers and checks the other two still run.
app_start() {
    local name
    for name in server spooler cron; do
        say "starting $BUILD/$name (log: $APP_LOG_FILE, output: $LOG/$name.out)"
        printf '\n==== %s deploy/local.sh test (%s/)\n' "$(date '+%F %T')" "$BUILD" >>"$LOG/$name.out"
        proc_start "$name" "$LOG/$name.out" --config "$APP_CONFIG"
    done
    SERVER_PID=$(<"$RUN/server.pid")
    wait_for_server
    for name in spooler cron; do
        is_running "$(<"$RUN/$name.pid")" || { tail_log "$LOG/$name.out"; die "the $name exited at start"; }
    done
}

# app_stop: the reverse.
app_stop() {
    cron_stop
    spooler_stop
    server_stop
}

refuse_leftover_server() {
    local pid name
    for name in server spooler cron; do
        if pid=$(live_pid "$RUN/$name.pid") && ours "$pid" "$name"; then
            die "a $name from an earlier run still runs (pid $pid): deploy/local.sh stop $ENV_NAME"
        fi
    done
}

wait_for_server() {
    local url=$API_BASE_URL/api/list i
    say "waiting for $url"
    for ((i = 0; i < 150; i++)); do  # about 30 s
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        if ! is_running "$SERVER_PID"; then
            tail_log "$LOG/server.out"
            tail_log "$APP_LOG_FILE"
            die "the server exited while starting"
        fi
        sleep 0.2
    done
    tail_log "$LOG/server.out"
    tail_log "$APP_LOG_FILE"
    die "no answer from $url in 30 s"
}

migrate() {
    [ -x "$BUILD/migrate" ] ||
        die "$BUILD/migrate is missing: it is built from app/bin/migrate.cpp; is it there yet?"
    say "migrating database $DB_NAME"
    "$BUILD/migrate" up >&2 || die "$BUILD/migrate up failed"
}

# ---- cleanup: stops what this invocation started, newest first, whatever way it ends.

cleanup() {
    local rc=$? i
    trap '' INT TERM  # a second Ctrl-C must not cut the cleanup short
    set +e
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        "${STARTED[i]}_stop"
    done
    exit "$rc"
}

# ---- commands

# bring_up [fresh]: steps 1-6: packages, build, postgres, redis, migrate, nginx.
bring_up() {
    check_paths
    refuse_leftover_server
    ensure_packages "${PACKAGES[@]}"
    if [ "$ENV_NAME" = test ]; then  # the openapi test's client; the format check
        ensure_node
        ensure_packages clang-format
        # The cluster test (tests/cluster/run.sh): network namespaces, etcd, Patroni, Sentinel.
        ensure_packages iproute2 etcd-server patroni python3-etcd redis-sentinel
    fi
    build
    mkdir -p "$RUN" "$LOG" "$SPOOL"
    export_app_env
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    pg_start
    export APP_DB_HOST=$PG_DIR  # a directory: libpq takes the unix socket in it
    pg_setup_db "${1:-}"
    redis_start
    migrate
    nginx_start
}

cmd_run() {
    select_env dev
    bring_up
    say "serving on $API_BASE_URL (Ctrl-C stops server, spooler, cron, nginx, redis, postgres)"
    proc_start server - --config "$APP_CONFIG"
    SERVER_PID=$(<"$RUN/server.pid")
    proc_start spooler - --config "$APP_CONFIG"
    proc_start cron - --config "$APP_CONFIG"
    # wait, not a foreground child: bash runs a trap only after the foreground child exits,
    # so a SIGTERM to this script would never reach the server.
    local rc=0
    wait "$SERVER_PID" || rc=$?
    say "the server exited with status $rc"
    exit "$rc"
}

# ---- test: its stages

# stage NAME CMD...: runs CMD in a subshell, where a die ends only this stage; notes the outcome
# and the time taken for the summary, and the first failure's status as the exit status.
stage() {
    local name=$1 start=$SECONDS rc
    shift
    say "stage: $name"
    set +e  # the subshell runs under set -e of its own: in an `||` list it would not
    (set -e; "$@")
    rc=$?
    set -e
    local took=$((SECONDS - start))
    took=$(printf '%dm%02ds' $((took / 60)) $((took % 60)))
    if [ "$rc" -eq 0 ]; then
        STAGES+=("passed   $took  $name")
    else
        STAGES+=("FAILED   $took  $name (exit $rc)")
        [ "$TEST_RC" -ne 0 ] || TEST_RC=$rc
    fi
}

# clean_slate: what a test pass starts from: empty Redis, no spooled tasks, a new app log (the
# tests grep it; the one before is kept as app.log.prev). The server, spooler and cron are down.
clean_slate() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
    find "$SPOOL" -mindepth 1 -delete
    if [ -f "$APP_LOG_FILE" ]; then mv -f "$APP_LOG_FILE" "$APP_LOG_FILE.prev"; fi
}

# run_ctest DIR CTEST_ARGS...: the suites of the build tree DIR against the stack; on a failure
# in CI, the ends of the logs too.
run_ctest() {
    local dir=$1 rc=0
    shift
    say "running the tests ($dir/)"
    ctest --test-dir "$dir" --output-on-failure "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "tests failed (exit $rc); logs: $LOG/"
        if [ "${CI:-}" = true ]; then
            tail_log "$LOG/server.out" 100
            tail_log "$APP_LOG_FILE" 100
            tail_log "$LOG/nginx-error.log" 20
        fi
    fi
    return "$rc"
}

# sanitized_tests: stage 2. Builds build-san/ (APP_SANITIZE=ON), puts its server, spooler and cron
# in place of build/'s on a fresh database and runs its unit and api suites (whose own server
# instances, admin and load generator are build-san's too). Every sanitized process writes its
# reports to $LOG/san/report.*; any report fails the stage, and is shown.
sanitized_tests() {
    say "building (build-san/: what the stack and the unit and api suites need)"
    cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Sanitize -DAPP_SANITIZE=ON >&2
    cmake --build build-san -j"$(nproc)" --target unit_tests api_tests spooler cron migrate >&2
    local san=$LOG/san rc=0
    rm -rf "$san"
    mkdir -p "$san"
    # Reports to files, one per process (report.<binary>.<pid>), every one fatal
    # (-fno-sanitize-recover=all, halt_on_error); leaks are checked when a process exits normally
    # (a SIGKILLed one reports none), but for those of libraries in tests/lsan.supp.
    export ASAN_OPTIONS="log_path=$san/report:log_exe_name=1:detect_leaks=1"
    ASAN_OPTIONS+=":check_initialization_order=1"
    export UBSAN_OPTIONS="log_path=$san/report:log_exe_name=1:halt_on_error=1:print_stacktrace=1"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
    say "restarting the server, spooler and cron from build-san/ on a fresh database"
    app_stop
    BUILD=build-san
    pg_setup_db fresh
    migrate
    clean_slate
    app_start
    run_ctest build-san -L '^(unit|api)$' || rc=$?
    app_stop  # their workers exit now, and check for leaks on the way out
    local reports n shown=10
    reports=$(find "$san" -type f | sort)
    if [ -n "$reports" ]; then
        n=$(wc -l <<<"$reports")
        say "$n sanitizer report(s) in $san/"
        head -n "$shown" <<<"$reports" | while read -r f; do
            printf -- '--- %s ---\n' "$f" >&2
            cat "$f" >&2
        done
        [ "$n" -le "$shown" ] || say "$((n - shown)) more in $san/"
        [ "$rc" -ne 0 ] || rc=1
    fi
    return "$rc"
}

cmd_test() {
    local sanitize=${SANITIZE:-1} fuzz=${FUZZ:-1} focus=("$@")
    [[ $sanitize =~ ^[01]$ ]] || die "SANITIZE must be 0 or 1"
    [[ $fuzz =~ ^[01]$ ]] || die "FUZZ must be 0 or 1"
    select_env test
    bring_up fresh
    clean_slate  # when a `stack test` left something
    app_start

    rm -f var/cluster/figures.txt  # the cluster test's figures, shown when it ran
    if [ "${#focus[@]}" -gt 0 ]; then  # a focused run: those suites only
        stage "tests (build/, ctest ${focus[*]})" run_ctest build --no-tests=error "${focus[@]}"
        if [ -f var/cluster/figures.txt ]; then cat var/cluster/figures.txt >&2; fi
        STAGES+=("skipped         sanitizers and fuzz (a focused run)")
        say "summary"
        printf '    %s\n' "${STAGES[@]}" >&2
        exit "$TEST_RC"
    fi
    stage "tests (build/, every suite)" run_ctest build
    # The booted-server test's steps and their times (tests/server/run.sh).
    if [ -f var/server-test/summary.txt ]; then cat var/server-test/summary.txt >&2; fi
    if [ -f var/server-ha/summary.txt ]; then cat var/server-ha/summary.txt >&2; fi
    # The cluster test's failover times and failed requests (tests/cluster/run.sh).
    if [ -f var/cluster/figures.txt ]; then cat var/cluster/figures.txt >&2; fi
    if [ "$sanitize" = 1 ]; then
        stage "sanitizers (build-san/, unit and api suites)" sanitized_tests
    else
        STAGES+=("skipped         sanitizers (SANITIZE=0)")
    fi
    if [ "$fuzz" = 0 ]; then
        STAGES+=("skipped         fuzz (FUZZ=0)")
    elif [ -f deploy/fuzz.sh ]; then
        stage "fuzz (deploy/fuzz.sh)" bash deploy/fuzz.sh
    else
        STAGES+=("skipped         fuzz (no deploy/fuzz.sh)")
    fi

    say "summary"
    printf '    %s\n' "${STAGES[@]}" >&2
    exit "$TEST_RC"
}

cmd_stack() {
    select_env "${1:-dev}"
    bring_up
    STARTED=()  # success: leave it all running
    say "the $ENV_NAME stack runs; stop it with: deploy/local.sh stop $ENV_NAME"
    print_env
}

cmd_stop() {
    local envs=("${1:-all}")
    [ "${envs[0]}" = all ] && envs=(dev test)
    local e
    for e in "${envs[@]}"; do
        select_env "$e"
        [ -d "$VAR" ] || continue
        proc_stop server
        proc_stop cron
        proc_stop spooler
        nginx_stop
        redis_stop
        pg_stop
    done
}

main() {
    case "${1:-}" in
        run) cmd_run ;;
        test) shift; cmd_test "$@" ;;
        stack) cmd_stack "${2:-dev}" ;;
        stop) cmd_stop "${2:-all}" ;;
        *) usage ;;
    esac
}

main "$@"
