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
    rapidjson-dev libscrypt-dev libssl-dev liblog4cplus-dev libboost-test-dev libboost-dev
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

# ---- The high-availability layout (README "Scaling out"): etcd, Patroni/PostgreSQL, Redis and
# Sentinel on the db and redis hosts. provision.sh writes these settings and tests/cluster/run.sh
# runs its cluster with them, so the cluster test proves what provisioning writes. Members are
# named after their addresses; the ports are fixed: etcd 2379 (clients) and 2380 (peers),
# Patroni's REST API 8008, Sentinel 26379.

# The Debian packages a db host (--db-cluster) and a redis host (--redis-cluster) of that layout
# run: provision.sh installs them, the booted HA test (tests/server/ha.sh) puts them in its root.
HA_DB_PACKAGES=(postgresql-15 patroni python3-etcd etcd-server)
HA_REDIS_PACKAGES=(redis-server redis-sentinel)

# ha_quorum N: the majority of N members.
ha_quorum() { echo $(($1 / 2 + 1)); }

# ha_etcd_env ADDRESS PEERS DATA_DIR TOKEN: one etcd member's settings as the ETCD_* variables
# etcd reads from its environment (Debian's etcd.service reads them from /etc/default/etcd), one
# per line. PEERS: every member's address, comma-separated, ADDRESS among them.
ha_etcd_env() {
    local addr=$1 data=$3 token=$4 cluster= p
    for p in ${2//,/ }; do cluster+="${cluster:+,}$p=http://$p:2380"; done
    # Fast elections: a lost etcd leader is replaced within about a second.
    cat <<EOF
ETCD_NAME=$addr
ETCD_DATA_DIR=$data
ETCD_LISTEN_PEER_URLS=http://$addr:2380
ETCD_INITIAL_ADVERTISE_PEER_URLS=http://$addr:2380
ETCD_LISTEN_CLIENT_URLS=http://$addr:2379,http://127.0.0.1:2379
ETCD_ADVERTISE_CLIENT_URLS=http://$addr:2379
ETCD_INITIAL_CLUSTER=$cluster
ETCD_INITIAL_CLUSTER_STATE=new
ETCD_INITIAL_CLUSTER_TOKEN=$token
ETCD_HEARTBEAT_INTERVAL=100
ETCD_ELECTION_TIMEOUT=1000
ETCD_LOG_LEVEL=warn
EOF
}

# ha_patroni_yml: one Patroni member's config on stdout, from these variables:
#   HA_SCOPE      the cluster's name (its keys in etcd)
#   HA_ADDRESS    this member's address (and name); HA_PEERS: every member's, comma-separated
#   HA_PORT       PostgreSQL's port; HA_DATA_DIR, HA_BIN_DIR, HA_SOCKET_DIR, HA_PGPASS: its files
#   HA_ALLOW      the app servers' network (CIDR): HA_DB_USER may connect from there to HA_DB_NAME
#   HA_SUPERUSER_PASSWORD, HA_REPLICATION_PASSWORD   for postgres and replicator
#   HA_POST_BOOTSTRAP   the script that makes the app's role and database (ha_post_bootstrap)
#   HA_PARAMETERS       more PostgreSQL parameters, "name: value" lines (may be empty)
# ttl 10 s (the leader key's life: a dead primary is replaced within it), loop_wait 1 s,
# retry_timeout 3 s (loop_wait + 2 * retry_timeout <= ttl); synchronous_mode, so a commit a client
# saw is on the replica Patroni promotes. bootstrap.dcs is read once, when the cluster is made
# (later: patronictl edit-config).
ha_patroni_yml() {
    local etcd= hba= p m
    for p in ${HA_PEERS//,/ }; do
        etcd+="${etcd:+, }$p:2379"
        m=$([[ $p == *:* ]] && echo 128 || echo 32)
        # Replication; and Patroni's check, when a member comes back, of the leader's timeline.
        hba+="  - host replication replicator $p/$m scram-sha-256"$'\n'
        hba+="  - host postgres postgres $p/$m scram-sha-256"$'\n'
    done
    cat <<EOF
scope: $HA_SCOPE
name: $HA_ADDRESS
restapi:
  listen: $HA_ADDRESS:8008
  connect_address: $HA_ADDRESS:8008
etcd3:
  hosts: [$etcd]
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      # A former primary that comes back with changes the new one never got is cloned anew.
      remove_data_directory_on_diverged_timelines: true
      parameters:
        max_connections: 100
        wal_keep_size: 128MB
  initdb:
  - encoding: UTF8
  - locale: C.UTF-8
  post_bootstrap: $HA_POST_BOOTSTRAP
postgresql:
  listen: $HA_ADDRESS,127.0.0.1:$HA_PORT
  connect_address: $HA_ADDRESS:$HA_PORT
  data_dir: $HA_DATA_DIR
  bin_dir: $HA_BIN_DIR
  pgpass: $HA_PGPASS
  use_unix_socket: true
  basebackup:  # a replica is cloned at once, not after a spread checkpoint (minutes)
  - checkpoint: fast
  authentication:
    superuser: {username: postgres, password: '$HA_SUPERUSER_PASSWORD'}
    replication: {username: replicator, password: '$HA_REPLICATION_PASSWORD'}
  parameters:
    unix_socket_directories: $HA_SOCKET_DIR
$(sed 's/^/    /' <<<"${HA_PARAMETERS:-}" | grep -v '^ *$' || true)
  pg_hba:
  - local all all peer
  - host all all 127.0.0.1/32 scram-sha-256
${hba}  - host $HA_DB_NAME $HA_DB_USER $HA_ALLOW scram-sha-256
EOF
}

# ha_post_bootstrap DB_NAME DB_USER DB_PASSWORD: the script Patroni runs once, as postgres, on
# the member that makes the cluster (bootstrap.post_bootstrap, given a local connection string):
# the app's role and database, made once whatever order the db hosts come up in.
ha_post_bootstrap() {
    cat <<EOF
#!/bin/sh
# Run by Patroni once, when it makes the cluster: the app's role and database (deploy/lib.sh).
set -e
psql -X -q -v ON_ERROR_STOP=1 -d "\$1" <<'SQL'
CREATE ROLE $2 LOGIN PASSWORD '$3';
CREATE DATABASE $1 OWNER $2;
SQL
EOF
}

# ha_redis_settings ADDRESS MASTER PORT PASSWORD: a Redis member's replication settings, "KEY
# VALUE" lines (redis.conf's form; redis-server takes each as --KEY VALUE too): the first master
# is MASTER, the others its replicas. Sentinel moves the master later and rewrites these.
ha_redis_settings() {
    [ "$1" = "$2" ] || printf 'replicaof %s %s\n' "$2" "$3"
    [ -z "$4" ] || printf 'requirepass %s\nmasterauth %s\n' "$4" "$4"
}

# ha_sentinel_conf ADDRESS MASTER PORT MEMBERS PASSWORD: a Sentinel's config (it rewrites the
# file with what it learns: written once). The master is named restpie (the app's
# redis_master_name); down after 1 s without an answer, a failover given up after 5 s; a majority
# of the MEMBERS Sentinels must agree.
ha_sentinel_conf() {
    cat <<EOF
port 26379
bind $1 127.0.0.1
protected-mode no
sentinel announce-ip $1
sentinel monitor restpie $2 $3 $(ha_quorum "$4")
sentinel down-after-milliseconds restpie 1000
sentinel failover-timeout restpie 5000
sentinel parallel-syncs restpie 1
EOF
    [ -z "$5" ] || printf 'sentinel auth-pass restpie %s\n' "$5"
}
