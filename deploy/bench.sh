#!/usr/bin/env bash
# bench.sh: measures the server through nginx with wrk, next to two yardsticks measured in the
# same run: nginx alone (/bench/nginx) and the bare libfcgi responder (/bench/hello). A
# measurement, not a test: CI never runs it.
#
# The responder's source is NOT part of this repository: the script compiles it from
# ../shared/bench/fcgi-hello.c (beside the checkout) when that file exists. It is optional:
# without it the script warns, the /bench/hello row is skipped and no ratio to it is reported.
#
#   deploy/bench.sh                   10 s per endpoint
#   BENCH_SECONDS=30 deploy/bench.sh  longer runs
#   BENCH_CONNECTIONS=256 deploy/bench.sh  more client connections (wrk -c; 16 by default)
#   BENCH_STACK=test TEST_SLOT=N deploy/bench.sh  on test stack N (when another checkout's dev
#                                     stack holds the dev ports)
#
# It uses the dev stack (deploy/local.sh stack dev: nginx 8100, PostgreSQL 54320, Redis 63790)
# and starts it if it is down; it uses a running dev server, else starts build/server with its
# log in var/dev/log/bench-app.log. It REPLACES the dev database's movies with 20 rows.
# On exit (Ctrl-C too) it stops what it started, and only that. Load goes to 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"
cd "$ROOT"

SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP_SECONDS=2
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=2
STACK=${BENCH_STACK:-dev}
case $STACK in
    dev) BASE=http://127.0.0.1:8100 PG_PORT=54320 VAR=$ROOT/var/dev ;;
    test) SLOT=${TEST_SLOT:-0}
          BASE=http://127.0.0.1:$((8101 + 10 * SLOT)) PG_PORT=$((54321 + 10 * SLOT))
          VAR=$ROOT/var/test${TEST_SLOT:-} ;;
    *) echo "BENCH_STACK must be dev or test" >&2; exit 2 ;;
esac
RUN=$VAR/run
LOG=$VAR/log
HELLO_SRC=$ROOT/../shared/bench/fcgi-hello.c
HELLO_SOCK=$RUN/hello.sock

STACK_STARTED=   # set when this run brought the stack up: then it also takes it down
SERVER_PID=      # the server we started (empty when we use one that ran already)
HELLO_PID=       # fcgi-hello's pid, also its process group (started with setsid)
TMP=             # wrk's Lua script and raw outputs
RESULTS=()       # "name|path|rps|p50|p99|non2xx|sockerr|busy", or "name|path|skip|reason"

usage() {
    sed -n '6,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# ---- cleanup: whatever way the script ends, stop what it started, newest first.

cleanup() {
    local rc=$?
    trap '' INT TERM  # a second Ctrl-C must not cut the cleanup short
    set +e
    if [ -n "$HELLO_PID" ] && is_running "$HELLO_PID"; then
        say "stopping fcgi-hello (process group $HELLO_PID)"
        # Its children are in its group (setsid made it the leader): one signal reaches them all.
        kill -TERM -- "-$HELLO_PID" 2>/dev/null
        wait_gone "$HELLO_PID" 5 || kill -KILL -- "-$HELLO_PID" 2>/dev/null
    fi
    [ -n "$HELLO_PID" ] && rm -f "$HELLO_SOCK" "$RUN/fcgi-hello.pid"
    if [ -n "$SERVER_PID" ]; then
        stop_pid server "$SERVER_PID" TERM 35  # the server's own grace for busy workers is 30 s
        wait "$SERVER_PID" 2>/dev/null
        # The pid file tells deploy/local.sh about our server; drop it only if it is still ours.
        [ "$(cat "$RUN/server.pid" 2>/dev/null)" = "$SERVER_PID" ] && rm -f "$RUN/server.pid"
    fi
    if [ -n "$STACK_STARTED" ]; then
        say "stopping the $STACK stack (this run started it)"
        deploy/local.sh stop "$STACK"
    fi
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$rc"
}

# ---- the stack and the server

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U restpie -d restpie >/dev/null 2>&1; }
redis_up() { live_pid "$RUN/redis.pid" >/dev/null; }
nginx_up() { live_pid "$RUN/nginx.pid" >/dev/null; }

# running_server: prints the pid of a dev server that runs already (pid files outlive processes
# and pids get reused, so the command line must name build/server too).
running_server() {
    local pid
    pid=$(live_pid "$RUN/server.pid") || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'build/server' || return 1
    echo "$pid"
}

# start_stack: the dev stack via deploy/local.sh (which also builds and migrates). It is stopped
# at the end only if none of it ran before: a developer's running stack is left alone.
start_stack() {
    local before=0 env_text
    pg_up && before=$((before + 1))
    redis_up && before=$((before + 1))
    nginx_up && before=$((before + 1))
    # An assignment, not eval "$(...)": set -e sees a failing substitution only here.
    env_text=$(deploy/local.sh stack "$STACK")
    eval "$env_text"
    case $before in
        0) STACK_STARTED=1 ;;
        3) say "the dev stack ran already: leaving it running" ;;
        *) say "part of the dev stack ran already: leaving it all running at the end" ;;
    esac
}

# start_server: build/server in the background, in its own session so a Ctrl-C reaches only us.
start_server() {
    # The env from `stack dev` is local development, whose log goes to the console whatever
    # log_file says; console logging would distort the figures. Production mode logs to the file
    # and is what the targets are about (local_dev only adds /apitest/dbtruncate and localhost
    # CORS echoes, neither of which the benchmark touches).
    export APP_LOCAL_DEV=false APP_PRODUCTION=true APP_TEST_MODE=false
    export APP_LOG_FILE=$LOG/bench-app.log
    [ -x build/server ] || die "build/server is missing: the build did not make it"
    # A run writes a line per request (about 50 MB): keep this run's and the one before only.
    [ -f "$APP_LOG_FILE" ] && mv -f "$APP_LOG_FILE" "$APP_LOG_FILE.prev"
    say "starting build/server (log: $APP_LOG_FILE, output: $LOG/bench-server.out)"
    printf '\n==== %s deploy/bench.sh\n' "$(date '+%F %T')" >>"$LOG/bench-server.out"
    setsid build/server --config "$APP_CONFIG" </dev/null >>"$LOG/bench-server.out" 2>&1 &
    SERVER_PID=$!
    echo "$SERVER_PID" >"$RUN/server.pid"  # so `deploy/local.sh stop dev` finds it if we die hard
    local i
    for ((i = 0; i < 150; i++)); do  # about 30 s
        curl -fsS -o /dev/null --max-time 2 "$BASE/api/list" 2>/dev/null && return 0
        is_running "$SERVER_PID" || break
        sleep 0.2
    done
    tail_log "$LOG/bench-server.out"
    tail_log "$APP_LOG_FILE"
    die "the server did not answer $BASE/api/list"
}

# children PID: the pids whose parent is PID (the master's workers).
children() {
    local f stat ppid pid
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue
        read -r _ ppid _ <<<"${stat##*) }"  # after the command name: state ppid ...
        [ "$ppid" = "$1" ] || continue
        pid=${f#/proc/}
        echo "${pid%/stat}"
    done
    return 0
}

# expected_workers: APP_WORKERS, else the config file's "workers", else 4 (the server's default).
expected_workers() {
    local n=${APP_WORKERS:-}
    if [ -z "$n" ]; then
        n=$(sed -n 's/.*"workers"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
            "${APP_CONFIG:-$ROOT/conf/server-config.json}" | head -n1)
    fi
    echo "${n:-4}"
}

# count_workers MASTER: the workers that run, waiting a little for all of them to be forked.
count_workers() {
    local want n i
    want=$(expected_workers)
    for ((i = 0; i < 25; i++)); do
        n=$(children "$1" | wc -l)
        [ "$n" -ge "$want" ] && break
        sleep 0.2
    done
    [ "$n" = "$want" ] || warn "expected $want workers (APP_WORKERS or config), found $n"
    echo "$n"
}

# ---- data: exactly 20 movies, so /api/movies/ always answers the same 20 rows

fill_movies() {
    say "replacing the movies with 20 rows (dev database)"
    local ids
    ids=$(psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U restpie restpie <<'SQL'
DELETE FROM movies;
INSERT INTO movies (title, director)
    SELECT format('Benchmark movie number %s', i), format('Director %s', i)
    FROM generate_series(1, 20) AS i
    RETURNING id;
VACUUM ANALYZE movies;
SQL
    )
    [ "$(wc -l <<<"$ids")" -eq 20 ] || die "expected 20 inserted ids, got: $ids"
    MOVIE_ID=$(sed -n 10p <<<"$ids")  # any one does: an indexed lookup by primary key
}

# session_cookie: "Cookie: name=value" of a logged-in bench user (signed up on first use), for
# /api/me, the route that reads a session from Redis and a user row per request.
session_cookie() {
    local login='{"email": "bench@example.com", "password": "Bench1pw"}'
    local hdrs
    hdrs=$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "${login%\}}"', "fname": "B", "lname": "M"}' "$BASE/api/signup")
    # Taken after the first run: log in instead (an error reply may carry a cookie deletion).
    grep -q '^HTTP/[0-9.]* 201' <<<"$hdrs" ||
        hdrs=$(curl -sS -D - -o /dev/null -H 'Content-Type: application/json' -d "$login" \
            "$BASE/api/login")
    grep -q '^HTTP/[0-9.]* 20[01]' <<<"$hdrs" || die "could not log in the bench user"
    local cookie
    cookie=$(grep -i '^set-cookie:' <<<"$hdrs" | head -1 | sed -E 's/^[Ss]et-[Cc]ookie: *([^;]*).*/\1/')
    [ -n "$cookie" ] || die "no session cookie for the bench user"
    echo "Cookie: $cookie"
}

# ---- the libfcgi yardstick

# start_hello PROCESSES: builds and runs fcgi-hello on the socket nginx's /bench/hello uses.
start_hello() {
    if [ ! -f "$HELLO_SRC" ]; then
        warn "$HELLO_SRC is missing: no fcgi-hello reference in this run"
        return 0
    fi
    local old
    if old=$(live_pid "$RUN/fcgi-hello.pid"); then
        die "an fcgi-hello from an earlier run still runs (pid $old): kill -- -$old"
    fi
    if [ ! build/fcgi-hello -nt "$HELLO_SRC" ]; then
        say "compiling build/fcgi-hello"
        gcc -O2 -o build/fcgi-hello "$HELLO_SRC" -lfcgi || die "gcc failed on $HELLO_SRC"
    fi
    rm -f "$HELLO_SOCK"  # libfcgi does not unlink a socket left by an earlier run
    # setsid: its own process group, so one signal to -PID stops it and the children it forks.
    setsid build/fcgi-hello "$HELLO_SOCK" "$1" </dev/null >>"$LOG/bench-hello.out" 2>&1 &
    HELLO_PID=$!
    echo "$HELLO_PID" >"$RUN/fcgi-hello.pid"
    wait_until 5 test -S "$HELLO_SOCK" || die "fcgi-hello did not create $HELLO_SOCK"
}

# ---- wrk

write_lua() {
    # done() runs once after the run: exact figures, rather than wrk's rounded human units.
    # errors.status counts replies with a status above 399.
    cat >"$TMP/report.lua" <<'LUA'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("BENCH %d %d %.3f %.3f %d %d\n",
        summary.requests, summary.duration,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
}

# wrk_run SECONDS URL [ARGS...]: one bounded wrk run; the timeout only guards against a hang,
# --foreground lets a Ctrl-C reach wrk.
wrk_run() {
    local secs=$1 url=$2
    shift 2
    timeout --foreground -k 5 $((secs + 30)) \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" "$@" "$url"
}

# bench NAME PATH: checks that PATH answers 200, warms up, measures; appends to RESULTS.
bench() {
    local name=$1 path=$2 code line out busy
    local hdr=()
    [ -n "${3:-}" ] && hdr=(-H "$3")  # e.g. the session cookie for /api/me
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "${hdr[@]}" "$BASE$path" 2>/dev/null) || true
    if [ "$code" != 200 ]; then
        warn "GET $path answers ${code:-nothing}, not 200: skipped"
        RESULTS+=("$name|$path|skip|HTTP ${code:-none}")
        return 0
    fi
    # The machine may be shared: a busy CPU while we send nothing makes this row's figures low.
    busy=$(cpu_busy)
    [ "$busy" -le 10 ] || warn "the CPUs are ${busy}% busy before GET $path: something else runs"
    say "GET $path: ${WARMUP_SECONDS}s warm-up, ${SECONDS_RUN}s measured"
    wrk_run "$WARMUP_SECONDS" "$BASE$path" "${hdr[@]}" >/dev/null
    out=$TMP/wrk-$name.txt
    wrk_run "$SECONDS_RUN" "$BASE$path" "${hdr[@]}" --latency -s "$TMP/report.lua" >"$out"
    {
        printf '\n==== %s GET %s\n' "$(date '+%F %T')" "$path"
        cat "$out"
    } >>"$LOG/bench-wrk.log"  # wrk's own report, with the latency distribution
    line=$(grep '^BENCH ' "$out") || die "no figures from wrk for $path (see $LOG/bench-wrk.log)"
    # BENCH requests duration_us p50_ms p99_ms non2xx socket_errors
    RESULTS+=("$(awk -v n="$name" -v p="$path" -v b="$busy" \
        '{ printf "%s|%s|%.0f|%s|%s|%s|%s|%s", n, p, $2 / ($3 / 1e6), $4, $5, $6, $7, b }' <<<"$line")")
}

# rps_of NAME: the requests/s measured for NAME, empty when skipped.
rps_of() {
    local r n rps
    for r in "${RESULTS[@]}"; do
        IFS='|' read -r n _ rps _ <<<"$r"
        [ "$n" = "$1" ] && [ "$rps" != skip ] && echo "$rps" && return 0
    done
    return 0
}

# cpu_busy: percent of all CPUs busy over one second (taken while we send no load).
cpu_busy() {
    local a b
    a=$(head -n1 /proc/stat)
    sleep 1
    b=$(head -n1 /proc/stat)
    # cpu user nice system idle iowait irq softirq steal: idle + iowait are not busy.
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x); split(b, y); t = 0
        for (i = 2; i <= 9; i++) t += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

# ---- the report

# busy%: the CPU use in the second before the row's runs, when we send nothing: 0 on a quiet
# machine; more means something else took cores from that row.
print_table() {
    local nginx hello r n p rps p50 p99 bad err busy rn rh
    nginx=$(rps_of nginx)
    hello=$(rps_of hello)
    printf '\n%-26s %9s %8s %8s %8s %7s %8s %8s %6s\n' endpoint req/s p50_ms p99_ms non-2xx \
        sockerr /nginx /hello busy%
    for r in "${RESULTS[@]}"; do
        IFS='|' read -r n p rps p50 p99 bad err busy <<<"$r"
        if [ "$rps" = skip ]; then
            printf '%-26s skipped: %s\n' "GET $p" "$p50"
            continue
        fi
        rn=$(awk -v a="$rps" -v b="$nginx" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        rh=$(awk -v a="$rps" -v b="$hello" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        printf '%-26s %9s %8.2f %8.2f %8s %7s %8s %8s %6s\n' "GET $p" "$rps" "$p50" "$p99" \
            "$bad" "$err" "$rn" "$rh" "$busy"
    done
}

# rss PID: VmRSS in MB from /proc/PID/status, split into anonymous and file pages (shared
# libraries count in full in every process), and PSS (shared pages divided among their users).
rss() {
    local pss
    pss=$(awk '/^Pss:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/smaps_rollup" 2>/dev/null) || true
    awk -v pss="${pss:-?}" '/^(VmRSS|RssAnon|RssFile):/ { v[$1] = $2 / 1024 }
         END { printf "%6.1f MB  (anon %.1f, file %.1f; PSS %s)",
               v["VmRSS:"], v["RssAnon:"], v["RssFile:"], pss }' "/proc/$1/status"
}

print_memory() {
    local master=$1 w
    printf '\nresident memory after the run (VmRSS):\n'
    for w in $(children "$master"); do
        printf '  worker  pid %-7s %s\n' "$w" "$(rss "$w")"
    done
    printf '  master  pid %-7s %s\n' "$master" "$(rss "$master")"
    if [ -n "$HELLO_PID" ]; then
        for w in $(children "$HELLO_PID" | head -n1); do
            printf '  (fcgi-hello child, for scale: %s)\n' "$(rss "$w")"
        done
    fi
}

# ---- main

main() {
    [ $# -eq 0 ] || usage
    [[ $SECONDS_RUN =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds"
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    ensure_packages wrk curl

    local master
    if master=$(running_server); then
        if ! pg_up || ! redis_up || ! nginx_up; then
            die "a dev server runs (pid $master) but the dev stack is not complete"
        fi
        say "using the dev server that runs already (pid $master)"
        warn "its log settings are its own: a console log (deploy/local.sh run) slows it down"
    else
        start_stack
        start_server
        master=$SERVER_PID
    fi
    local workers
    workers=$(count_workers "$master")

    fill_movies
    start_hello "$workers"
    TMP=$(mktemp -d)
    write_lua

    say "wrk: $THREADS threads, $CONNECTIONS connections, $BASE, ${SECONDS_RUN}s per endpoint"
    bench nginx /bench/nginx
    bench hello /bench/hello
    bench list /api/list
    bench counter /apitest/counter
    bench movie "/api/movies/$MOVIE_ID"
    bench movies /api/movies/
    bench me /api/me "$(session_cookie)"

    local hello=none
    [ -n "$HELLO_PID" ] && hello="$workers processes"
    printf '\n%s  %s cores (%s)  server: %s workers  fcgi-hello: %s  wrk -t%s -c%s -d%ss\n' \
        "$(date '+%F %T %Z')" "$(nproc)" \
        "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)" "$workers" "$hello" \
        "$THREADS" "$CONNECTIONS" "$SECONDS_RUN"
    printf 'busy%%: CPU use in the second before each row, with no load from us (quiet: 0-2)\n'
    print_table
    print_memory "$master"
}

main "$@"
