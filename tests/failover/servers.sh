#!/usr/bin/env bash
# servers.sh: the replicated servers of the failover suite, on loopback only, under
# var/failover<TEST_SLOT>/ on ports of the slot (n = TEST_SLOT, default 0):
#   PostgreSQL 15: a primary on 127.0.0.1 and a streaming standby (pg_basebackup -R) on
#   127.0.0.2, both on port 54325+10n, so one db_host list "127.0.0.1,127.0.0.2" with one
#   db_port reaches both; Redis: a master on 63792+10n, its replica on 63793+10n and three
#   Sentinels on 63794..63796+10n watching them as "restpie".
#
#   servers.sh pg-up | pg-promote-standby | pg-stop NAME | pg-start NAME (primary, standby)
#   servers.sh pg-sql NAME SQL | ports (PostgreSQL, Redis master, replica, Sentinels)
#   servers.sh redis-up | redis-down | redis-kill NAME (master, replica) | redis-failover
#   servers.sh redis-master   prints the master's host:port, as the first Sentinel sees it
#   servers.sh down           stops everything started here (by pid file), whatever state
# Every wait is bounded; exits non-zero with a message when something does not come up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
n=${TEST_SLOT:-0}
[[ $n =~ ^[0-9]$ ]] || { echo "TEST_SLOT must be a digit" >&2; exit 2; }
VAR=$ROOT/var/failover$n
PG_PORT=$((54325 + 10 * n))
REDIS_MASTER=$((63792 + 10 * n))
REDIS_REPLICA=$((63793 + 10 * n))
SENTINELS=($((63794 + 10 * n)) $((63795 + 10 * n)) $((63796 + 10 * n)))
PGBIN=/usr/lib/postgresql/15/bin

# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"  # die, is_root, wait_until
# As the postgres user when root (initdb and postgres refuse root), from / (our cwd may be closed).
as_pg() { if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
addr_of() { [ "$1" = primary ] && echo 127.0.0.1 || echo 127.0.0.2; }

pg_start() {  # pg_start NAME
    local name=$1 dir=$VAR/pg/$1
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 -o \
        "-p $PG_PORT -k $dir -c listen_addresses=$(addr_of "$name") -c fsync=off" start >/dev/null ||
        { tail -5 "$dir/postgres.log" >&2; die "postgres $name did not start"; }
}

pg_stop() {  # pg_stop NAME: fast shutdown (its connections get 57P01), if it runs
    local dir=$VAR/pg/$1/data
    [ -f "$dir/postmaster.pid" ] || return 0
    as_pg "$PGBIN/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null || true
}

psql_on() {  # psql_on NAME SQL
    "$PGBIN/psql" -X -qAt -h "$(addr_of "$1")" -p "$PG_PORT" -U postgres -d postgres -c "$2"
}

pg_up() {
    pg_stop standby
    pg_stop primary
    rm -rf "$VAR/pg"
    mkdir -p "$VAR/pg/primary" "$VAR/pg/standby"
    if is_root; then chown -R postgres "$VAR/pg"; fi
    chmod 700 "$VAR/pg/primary" "$VAR/pg/standby"
    as_pg "$PGBIN/initdb" -D "$VAR/pg/primary/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth=trust >"$VAR/initdb.log" 2>&1 || die "initdb failed"
    # Trust on loopback only; replication connections too (the standby's).
    printf 'local all all trust\nhost all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n' |
        as_pg tee "$VAR/pg/primary/data/pg_hba.conf" >/dev/null
    pg_start primary
    wait_until 20 psql_on primary "SELECT 1" || die "primary does not answer"
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$VAR/pg/standby/data" \
        -R -X stream >"$VAR/basebackup.log" 2>&1 || die "pg_basebackup failed"
    pg_start standby
    wait_until 20 psql_on standby "SELECT 1" || die "standby does not answer"
    [ "$(psql_on standby "SELECT pg_is_in_recovery()")" = t ] || die "the standby is not in recovery"
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

redis_start() {  # redis_start NAME PORT ARGS...
    local name=$1 port=$2
    shift 2
    # A config file of its own, so the Sentinels' CONFIG REWRITE after a failover has one.
    : >"$VAR/redis/$name.conf"
    redis-server "$VAR/redis/$name.conf" --bind 127.0.0.1 --port "$port" --daemonize yes \
        --save "" --appendonly no --dbfilename "$name.rdb" \
        --pidfile "$VAR/redis/$name.pid" --logfile "$VAR/redis/$name.log" --dir "$VAR/redis" "$@" ||
        die "redis $name failed"
    wait_until 10 redis_cli "$port" ping || die "redis $name does not answer"
}

redis_up() {
    redis_down
    rm -rf "$VAR/redis"  # a replica's full sync leaves an RDB file: start empty
    mkdir -p "$VAR/redis"
    redis_start master "$REDIS_MASTER"
    redis_start replica "$REDIS_REPLICA" --replicaof 127.0.0.1 "$REDIS_MASTER"
    local i p
    for i in 0 1 2; do
        p=${SENTINELS[$i]}
        # Short timeouts so a failover takes seconds: down after 1 s, failover timeout 5 s.
        cat >"$VAR/redis/sentinel$i.conf" <<CONF
port $p
bind 127.0.0.1
daemonize yes
pidfile $VAR/redis/sentinel$i.pid
logfile $VAR/redis/sentinel$i.log
dir $VAR/redis
sentinel monitor restpie 127.0.0.1 $REDIS_MASTER 2
sentinel down-after-milliseconds restpie 1000
sentinel failover-timeout restpie 5000
sentinel parallel-syncs restpie 1
CONF
        redis-server "$VAR/redis/sentinel$i.conf" --sentinel || die "sentinel $i failed"
    done
    for p in "${SENTINELS[@]}"; do
        # Each Sentinel has found the replica (and the others) before any failover is asked for.
        wait_until 20 sentinel_knows_replica "$p" || die "sentinel on $p does not see the replica"
    done
}

sentinel_knows_replica() {
    redis_cli "$1" sentinel replicas restpie | grep -qx "127.0.0.1:$REDIS_REPLICA" &&
        [ "$(redis_cli "$1" sentinel master restpie | sed -n '/^num-other-sentinels$/{n;p}')" = 2 ]
}

# running PID: alive and not a zombie (a daemon's parent is init, which may reap it late).
running() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]
}

kill_pidfile() {  # kill_pidfile FILE SIGNAL: the process whose pid FILE holds, then waits
    local pid
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if [[ $pid =~ ^[0-9]+$ ]] && running "$pid"; then
        kill -"$2" "$pid" || true
        local end=$((SECONDS + 10))
        while running "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
    fi
    rm -f "$1"
}

redis_down() {
    local f
    for f in "$VAR"/redis/*.pid; do [ -e "$f" ] && kill_pidfile "$f" TERM; done
    return 0
}

case "${1:-}" in
    pg-up) pg_up ;;
    pg-promote-standby) as_pg "$PGBIN/pg_ctl" -D "$VAR/pg/standby/data" -w -t 30 promote >/dev/null ;;
    pg-stop) pg_stop "${2:?name}" ;;
    pg-start) pg_start "${2:?name}" ;;
    pg-sql) psql_on "${2:?name}" "${3:?sql}" ;;
    redis-up) redis_up ;;
    redis-kill) kill_pidfile "$VAR/redis/${2:?name}.pid" KILL ;;
    redis-down) redis_down ;;
    redis-master) redis_cli "${SENTINELS[0]}" sentinel get-master-addr-by-name restpie | paste -sd: ;;
    redis-failover) redis_cli "${SENTINELS[0]}" sentinel failover restpie ;;
    ports) echo "$PG_PORT $REDIS_MASTER $REDIS_REPLICA ${SENTINELS[*]}" ;;
    down) redis_down; pg_stop standby; pg_stop primary ;;
    *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
