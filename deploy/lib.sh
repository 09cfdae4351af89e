# shellcheck shell=bash
# lib.sh: helpers shared by the deploy scripts (sourced, never run): messages, root, packages, pids.
# Caveat: callers run under `set -euo pipefail`, so every helper returns 0 unless it means failure.

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# as_root CMD...: runs CMD as root, through sudo when we are not root.
as_root() {
    if is_root; then "$@"; else sudo "$@"; fi
}

# Debian packages the build, the tests and the local stack need.
# shellcheck disable=SC2034  # used by the scripts that source this file
PACKAGES=(build-essential cmake pkg-config libfcgi-dev spawn-fcgi libpqxx-dev libhiredis-dev
    libsystemd-dev rapidjson-dev libscrypt-dev liblog4cplus-dev libboost-test-dev libboost-dev
    libkainjow-mustache-dev nginx-light postgresql redis-server curl wrk)

package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_packages PKG...: installs the missing ones; apt is only touched when something is missing.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        package_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    # postgresql, redis-server and nginx start their system services on install; a policy-rc.d
    # that answers 101 ("forbidden") stops that, so only our private instances ever run.
    local policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d} ours=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# written by deploy/lib.sh during apt-get install\nexit 101\n' |
            as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        ours=1
        # shellcheck disable=SC2064  # expand now: $policy is local
        trap "as_root rm -f '$policy'" EXIT  # even when apt is interrupted
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >&2 || rc=$?
    if [ -n "$ours" ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
    [ "$rc" -eq 0 ] || die "apt-get install failed (exit $rc)"
}

# ensure_node: node and npm for the openapi test's TypeScript client (tests/openapi), from Debian
# unless an npm is already there: NodeSource's nodejs bundles npm and conflicts with Debian's.
ensure_node() {
    command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
}

# nginx_render TEMPLATE: an nginx file of nginx/ with its @NAME@ placeholders filled in, on stdout,
# from HTTP_PORT, HTTPS_PORT, SERVER_NAME, TLS_CERT, TLS_KEY, METRICS_PORT and APP_SERVERS (the app
# servers' FastCGI addresses, comma-separated; unset: this machine's socket). provision.sh installs
# what it writes; tests/server/nginx_check.sh checks it with nginx -t.
nginx_render() {
    local servers='    server unix:/run/restpie/app.sock;' a
    if [ -n "${APP_SERVERS:-}" ]; then
        # 3 failures within 10 s: the server is left alone for 10 s (nginx/http.conf.in).
        servers=$(for a in ${APP_SERVERS//,/ }; do
            printf '    server %s max_fails=3 fail_timeout=10s;\n' "$a"
        done)
    fi
    sed -e "s|@HTTP_PORT@|${HTTP_PORT:-}|g" -e "s|@HTTPS_PORT@|${HTTPS_PORT:-}|g" \
        -e "s|@SERVER_NAME@|${SERVER_NAME:-}|g" -e "s|@TLS_CERT@|${TLS_CERT:-}|g" \
        -e "s|@TLS_KEY@|${TLS_KEY:-}|g" -e "s|@METRICS_PORT@|${METRICS_PORT:-}|g" "$1" |
        SERVERS=$servers awk '$1 == "@APP_SERVERS@" { print ENVIRON["SERVERS"]; next } { print }'
}

# is_running PID: true while PID exists and is not a zombie (kill -0 succeeds on zombies).
is_running() {
    local pid=$1 stat
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }  # the command name may hold spaces and parentheses: cut after the last ')'
    [ "${stat%% *}" != Z ]
}

# live_pid FILE: prints the pid in FILE if that process runs; fails otherwise.
live_pid() {
    local pid
    [ -r "$1" ] || return 1
    pid=$(tr -dc 0-9 <"$1")
    is_running "$pid" || return 1
    printf '%s\n' "$pid"
}

# wait_gone PID SECONDS: true once PID has exited, false if it still runs after SECONDS.
wait_gone() {
    local pid=$1 tenths=$(($2 * 10))
    while is_running "$pid"; do
        [ "$tenths" -le 0 ] && return 1
        sleep 0.1
        tenths=$((tenths - 1))
    done
}

# stop_pid NAME PID SIGNAL SECONDS: sends SIGNAL, waits up to SECONDS, then SIGKILL.
stop_pid() {
    local name=$1 pid=$2 sig=$3 secs=$4
    is_running "$pid" || return 0
    say "stopping $name (pid $pid)"
    kill -s "$sig" "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$secs"; then
        warn "$name (pid $pid) still runs after ${secs}s: SIGKILL"
        kill -s KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || warn "$name (pid $pid) survived SIGKILL"
    fi
}

# wait_until SECONDS CMD...: retries CMD every 0.2 s until it succeeds; false on timeout.
wait_until() {
    local tries=$(($1 * 5))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$tries" -le 0 ] && return 1
        sleep 0.2
        tries=$((tries - 1))
    done
}

# tail_log FILE: shows the end of a log when something failed to start.
tail_log() {
    [ -r "$1" ] || return 0
    printf -- '--- last lines of %s ---\n' "$1" >&2
    tail -n "${2:-40}" "$1" >&2 || true
}
