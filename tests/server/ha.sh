#!/usr/bin/env bash
# ha.sh: the booted HA test (ctest `server_ha`, label server; alone: `bash tests/server/ha.sh
# BUILD_DIR`, BUILD_DIR holding server, migrate and admin). As root: three fresh Debian 12
# containers booted with systemd (tests/server/boot.sh), each in a network namespace of its own,
# provisioned as README "Scaling out" says for the db and redis hosts:
#
#   rha-net   a bridge (br0) and one veth to each host; 10.78.0.0/24 exists only in these
#   rha-db1   10.78.0.11  container: provision.sh --roles db,redis --db-cluster ... --redis-cluster ...
#   rha-db2   10.78.0.12  the same, with db1's secrets.json (--secrets)
#   rha-db3   10.78.0.13  the same
#   rha-app   10.78.0.21  BUILD_DIR's server (FastCGI) behind nginx, pointed at the three
#                         (db_host, redis_sentinels), as an app host provisioned with --db-hosts and
#                         --redis-sentinels is; not a container (the app role is the booted-server
#                         test's)
#
# It checks what provisioning made under systemd: bad options refused, etcd healthy with 3
# members, Patroni with one leader and two replicas, the Sentinels agreeing on the master, a
# second provisioning changing nothing, a write through the app; then the Patroni leader's host
# is powered off (power_off: its link down, then every process in it SIGKILLed, so no reset
# reaches the app; the Redis master db1 goes too), a
# replica is promoted by Patroni and by Sentinel, and writes work again; then that host boots
# again and rejoins as a replica. The containers cannot reach the Debian mirror: their root has
# provisioning's packages installed beforehand (with the host's network, cached in BOOT_CACHE),
# so provision.sh installs nothing and configures everything. Whatever happens, the containers
# are stopped, their roots removed and the namespaces deleted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
# shellcheck source=deploy/lib.sh
source deploy/lib.sh
# shellcheck source=tests/server/boot.sh
source tests/server/boot.sh
# shellcheck source=tests/cluster/netns.sh
source tests/cluster/netns.sh

BUILD=$(realpath "${1:-build}")
for b in server migrate admin; do
    [ -x "$BUILD/$b" ] || die "usage: tests/server/ha.sh BUILD_DIR ($BUILD/$b is missing)"
done
is_root || die "the booted HA test needs root (ip netns, debootstrap, systemd-nspawn)"

PREFIX=rha-
NET=10.78.0
DBS=(db1 db2 db3)
declare -A IP=([db1]=$NET.11 [db2]=$NET.12 [db3]=$NET.13 [app]=$NET.21)
PEERS=$NET.11,$NET.12,$NET.13
WORK=$ROOT/var/server-ha
PSQL=/usr/lib/postgresql/15/bin/psql
# What provision.sh installs for --roles db,redis with --db-cluster and --redis-cluster
# (deploy/lib.sh), and the test's own tools; the root is cached by this list.
HA_PACKAGES=(curl rsync jq "${HA_DB_PACKAGES[@]}" "${HA_REDIS_PACKAGES[@]}")
declare -A NSPAWN_PID CT_PID

# ---- helpers

fail() {
    local d
    printf 'FAILED: %s: %s\n' "${STEP:-setup}" "$*" >&2
    for d in "${DBS[@]}"; do
        [ -n "${CT_PID[$d]:-}" ] || continue
        printf -- '--- %s ---\n' "$d" >&2
        on_ct "$d" systemctl --no-pager --failed >&2 || true
        on_ct "$d" journalctl --no-pager -n 25 -u etcd -u patroni -u redis-server -u redis-sentinel >&2 || true
    done
    tail_log "$WORK/app/app.log" 20
    exit 1
}
poll() { wait_until "$@"; }
on() {  # on HOST CMD...: CMD (of this machine) in HOST's namespace
    local h=$1
    shift
    ip netns exec "$PREFIX$h" "$@"
}
on_ct() {  # on_ct HOST CMD...: CMD in HOST's container
    local h=$1
    shift
    BOOT_PID=${CT_PID[$h]} inside "$@"
}

cleanup() {
    local rc=$? d
    trap '' INT TERM
    set +e
    say "stopping the containers, removing their roots and the namespaces"
    [ -z "${NGINX_PID:-}" ] || stop_pid nginx "$NGINX_PID" TERM 5
    [ -z "${SERVER_PID:-}" ] || stop_pid server "$SERVER_PID" TERM 10
    for d in "${DBS[@]}"; do
        BOOT_NSPAWN_PID=${NSPAWN_PID[$d]:-} BOOT_PID=${CT_PID[$d]:-}
        boot_stop "$WORK/$d" || rc=1
    done
    ns_remove_all
    exit "$rc"
}

# ha_root ROOT: a Debian 12 root with HA_PACKAGES installed, from the cache when it has one.
# Installed as provision.sh does: Debian's main PostgreSQL cluster not made, no service started.
ha_root() {
    local root=$1 key tarball
    key=$(printf '%s ha v1' "${HA_PACKAGES[*]}" | sha256sum | cut -c1-12)
    tarball=$BOOT_CACHE/ha-root-$key.tar.zst
    rm -rf --one-file-system "$root"
    mkdir -p "$root"
    if [ ! -f "$tarball" ]; then
        say "installing ${HA_PACKAGES[*]} in a Debian 12 root (once per machine; then cached)"
        boot_prepare "$root"
        printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
        chmod 755 "$root/usr/sbin/policy-rc.d"
        systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe env DEBIAN_FRONTEND=noninteractive \
            sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends postgresql-common &&
                pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false &&
                apt-get install -y -q --no-install-recommends ${HA_PACKAGES[*]} && apt-get clean" \
            >"$WORK/packages.log" 2>&1 || { tail -n 30 "$WORK/packages.log" >&2; die "apt-get install in the root failed"; }
        rm -f "$root/usr/sbin/policy-rc.d"
        tar -C "$root" -I 'zstd -T0 -3' -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        return 0
    fi
    tar -C "$root" -I zstd -xpf "$tarball"
}

# provision HOST LOG ARGS...: provision.sh in HOST's container for the db and redis roles.
provision() {
    local h=$1 log=$2
    shift 2
    on_ct "$h" bash /root/src/deploy/provision.sh --roles db,redis --db-cluster "$PEERS" \
        --redis-cluster "$PEERS" --allow "$NET.0/24" "$@" /root/src >"$log" 2>&1
}

etcd_members() {  # etcd_members HOST: the members HOST's etcd knows
    on app curl -fsS --max-time 2 -X POST -d '{}' "http://${IP[$1]}:2379/v3/cluster/member/list" |
        jq '.members | length'
}
etcd_healthy() { on app curl -fsS --max-time 2 "http://${IP[$1]}:2379/health" | grep -q '"health":"true"'; }

# patroni_roles HOST: the members' roles as HOST's Patroni sees them ("leader replica
# sync_standby"), the running ones only.
patroni_roles() {
    on app curl -fsS --max-time 2 "http://${IP[$1]}:8008/cluster" |
        jq -r '[.members[] | select(.state == "running" or .state == "streaming") | .role] | sort | join(" ")'
}
patroni_leader() {
    on app curl -fsS --max-time 2 "http://${IP[$1]}:8008/cluster" |
        jq -r '.members[] | select(.role == "leader") | .host'
}
# cluster_formed HOST: one leader and two replicas, one of them synchronous.
cluster_formed() { [ "$(patroni_roles "$1")" = "leader replica sync_standby" ]; }
leader_is_not() { local l; l=$(patroni_leader "$2") && [ -n "$l" ] && [ "$l" != "$1" ]; }

sentinel_master() {  # sentinel_master HOST: the master's address, as HOST's Sentinel sees it
    on app redis-cli -h "${IP[$1]}" -p 26379 --raw sentinel get-master-addr-by-name restpie 2>/dev/null |
        head -n 1
}
sentinel_field() {  # sentinel_field HOST FIELD: of SENTINEL MASTER restpie
    on app redis-cli -h "${IP[$1]}" -p 26379 --raw sentinel master restpie 2>/dev/null |
        awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'
}
sentinels_agree() {
    local d m
    for d in "$@"; do
        m=$(sentinel_master "$d") && [ "$m" = "$SENTINEL_WANT" ] || return 1
    done
}

# The app on rha-app: this build's server as a provisioned app host runs it (db_host and
# redis_sentinels listing the three), behind nginx (tests/cluster/lb.conf.in, both upstreams
# this one server).
app_env() {
    APP_ENV=(APP_CONFIG="$ROOT/conf/server-config.json" APP_LOCAL_DEV=false APP_PRODUCTION=false
        APP_TEST_MODE=true APP_LISTEN="${IP[app]}:9000" APP_WORKERS=2
        APP_FCGI_WEB_SERVER_ADDRS="${IP[app]}" APP_DB_HOST="$PEERS" APP_DB_PORT=5432
        APP_DB_NAME=restpie APP_DB_USER=restpie APP_DB_PASSWORD="$DB_PW" APP_DB_CONNECT_TIMEOUT_S=2
        APP_REDIS_SENTINELS="${IP[db1]}:26379,${IP[db2]}:26379,${IP[db3]}:26379"
        APP_REDIS_MASTER_NAME=restpie APP_REDIS_PASSWORD="$REDIS_PW"
        APP_REDIS_CONNECT_TIMEOUT_MS=500 APP_REDIS_TIMEOUT_MS=1000
        APP_LOG_FILE="$WORK/app/app.log" APP_SPOOL_DIR="$WORK/app/spool"
        APP_STATS_LISTEN="unix:$WORK/app/stats.sock" APP_METRICS_LISTEN=127.0.0.1:9117
        APP_RELOAD_FILE= APP_RELOAD_ON_REBUILD=false APP_SESSION_COOKIE_SECURE=false)
}
app_run() {
    app_env
    on app env "${APP_ENV[@]}" "$@"
}
http() {  # http PATH [CURL ARGS...]: the status code of a request through nginx on rha-app
    on app curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${@:2}" "http://127.0.0.1:8080$1" || true
}
login() {
    on app curl -sS --max-time 10 -D - -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EDITOR\",\"password\":\"$PASSWORD\"}" http://127.0.0.1:8080/api/login |
        tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(session=[^;]*\);.*/\1/p' | head -n 1
}
# write_ok TITLE: a login and a movie written through the app (both need the PostgreSQL primary
# and the Redis master).
write_ok() {
    local cookie
    cookie=$(login) && [ -n "$cookie" ] &&
        [ "$(http /api/movies/ -H "Cookie: $cookie" -H 'Content-Type: application/json' \
            -d "{\"title\":\"$1\",\"director\":\"ha-$RUN_ID\"}")" = 201 ]
}

# ---- main

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ns_remove_all  # what an interrupted run left
mkdir -p "$WORK"
rm -f "$WORK/summary.txt"
RUN_ID=$(date +%s)
EDITOR=editor-$RUN_ID@ha.test
PASSWORD=Ha1password

step "three Debian 12 roots with the db and redis packages, booted in namespaces of their own"
boot_packages_host
ensure_packages jq redis-tools curl
# nginx and psql: the ones deploy/local.sh installs (PACKAGES), whichever nginx package it is.
command -v nginx >/dev/null && [ -x "$PSQL" ] || die "nginx and $PSQL are needed (deploy/local.sh installs them)"
net_up "${DBS[@]}" app
for d in "${DBS[@]}"; do
    ha_root "$WORK/$d"
    mkdir -p "$WORK/$d/root/src"
    rsync -a --exclude=/.git/ --exclude='/build*/' --exclude=/var/ "$ROOT"/ "$WORK/$d/root/src"/
done
for d in "${DBS[@]}"; do
    boot_start "$WORK/$d" "$d" "--network-namespace-path=/run/netns/$PREFIX$d"
    NSPAWN_PID[$d]=$BOOT_NSPAWN_PID CT_PID[$d]=$BOOT_PID
done
ok "$(on_ct db1 hostname -I)/ $(on_ct db2 hostname -I)/ $(on_ct db3 hostname -I)"

step "bad cluster options: refused with a message, before anything is installed"
# refused WANT ARGS...: provision.sh on db1 with ARGS exits non-zero, saying WANT.
refused() {
    local want=$1 out
    shift
    if out=$(on_ct db1 bash /root/src/deploy/provision.sh "$@" /root/src 2>&1); then
        fail "provision.sh $* succeeded"
    fi
    grep -qF -- "$want" <<<"$out" || fail "provision.sh $*: no '$want' in: $out"
}
refused "an odd number of addresses" --roles db --allow "$NET.0/24" --db-cluster "$NET.11,$NET.12"
refused "exactly one of them must be this host's" --roles db --allow "$NET.0/24" \
    --db-cluster "$NET.12,$NET.13,$NET.14"
refused "IP addresses, comma-separated, not db2" --roles redis --redis-cluster "$NET.11,db2,$NET.13"
refused "--db-cluster needs --allow" --roles db --db-cluster "$PEERS"
refused "--redis-cluster is for the redis role" --roles db --allow "$NET.0/24" --redis-cluster "$PEERS"
[ ! -e "$WORK/db1/etc/restpie" ] || fail "a refused provision.sh left /etc/restpie"
ok

step "provision db1 alone (it makes the passwords), then db2 and db3 at once with its secrets.json"
provision db1 "$WORK/provision-db1.log" || { tail -n 30 "$WORK/provision-db1.log" >&2; fail "provision.sh on db1"; }
install -m 600 "$WORK/db1/etc/restpie/secrets.json" "$WORK/db2/root/secrets.json"
install -m 600 "$WORK/db1/etc/restpie/secrets.json" "$WORK/db3/root/secrets.json"
provision db2 "$WORK/provision-db2.log" --secrets /root/secrets.json &
p2=$!
provision db3 "$WORK/provision-db3.log" --secrets /root/secrets.json &
p3=$!
wait "$p2" || { tail -n 30 "$WORK/provision-db2.log" >&2; fail "provision.sh on db2"; }
wait "$p3" || { tail -n 30 "$WORK/provision-db3.log" >&2; fail "provision.sh on db3"; }
DB_PW=$(jq -r .db_password "$WORK/db1/etc/restpie/secrets.json")
REDIS_PW=$(jq -r .redis_password "$WORK/db1/etc/restpie/secrets.json")
ok

step "etcd: healthy, 3 members"
for d in "${DBS[@]}"; do poll 60 etcd_healthy "$d" || fail "etcd on $d is not healthy"; done
for d in "${DBS[@]}"; do
    [ "$(etcd_members "$d")" = 3 ] || fail "etcd on $d knows $(etcd_members "$d") members, not 3"
done
ok

step "Patroni: one leader, two replicas (one synchronous); the app's database made once"
poll 120 cluster_formed db1 || fail "Patroni's members: $(patroni_roles db1)"
leader=$(patroni_leader db1)
for d in "${DBS[@]}"; do
    [ "$(on_ct "$d" systemctl is-active patroni etcd redis-server redis-sentinel | sort -u)" = active ] ||
        fail "a unit is not active on $d"
    if on_ct "$d" systemctl is-active -q postgresql@15-main; then fail "Debian's own cluster runs on $d"; fi
done
on_ct db1 patronictl -c /etc/patroni/config.yml list >"$WORK/patronictl.txt" 2>&1 ||
    fail "patronictl list: $(cat "$WORK/patronictl.txt")"
cat "$WORK/patronictl.txt" >&2
bootstraps=$(for d in "${DBS[@]}"; do on_ct "$d" journalctl --no-pager -u patroni; done | grep -c 'running post_bootstrap' || true)
[ "$bootstraps" = 1 ] || fail "post_bootstrap ran $bootstraps times, not once"
ok "leader $leader"

step "Sentinels: all three name the same master, with 2 replicas and 2 other Sentinels"
SENTINEL_WANT=${IP[db1]}
poll 30 sentinels_agree "${DBS[@]}" || fail "the Sentinels name: $(for d in "${DBS[@]}"; do sentinel_master "$d"; done | paste -sd ' ')"
all_seen() { [ "$(sentinel_field db1 num-slaves)" = 2 ] && [ "$(sentinel_field db1 num-other-sentinels)" = 2 ]; }
poll 30 all_seen ||
    fail "db1's Sentinel: $(sentinel_field db1 num-slaves) replicas, $(sentinel_field db1 num-other-sentinels) other Sentinels"
ok "master $SENTINEL_WANT"

step "provision db3 again: nothing changed, nothing restarted"
main_pids() { on_ct db3 systemctl show -p MainPID --value etcd patroni redis-server redis-sentinel | grep . | paste -sd ' ' -; }
before=$(main_pids)
# sentinel.conf is left out: Sentinel rewrites it as it learns (provisioning writes it only once).
sums() { on_ct db3 sha256sum /etc/default/etcd /etc/patroni/config.yml /etc/redis/redis.conf; }
sums_before=$(sums)
provision db3 "$WORK/provision-db3-again.log" --secrets /root/secrets.json ||
    { tail -n 30 "$WORK/provision-db3-again.log" >&2; fail "the second provision.sh on db3"; }
[ "$(main_pids)" = "$before" ] || fail "a service was restarted: pids $before, then $(main_pids)"
[ "$(sums)" = "$sums_before" ] || fail "a config changed: $(diff <(echo "$sums_before") <(sums))"
! grep -q 'Redis replication and Sentinel' "$WORK/provision-db3-again.log" || fail "sentinel.conf written again"
ok "main pids $before"

step "an app pointed at them (db_host and redis_sentinels list the three) serves a write"
rm -rf "$WORK/app"  # a run's own log
mkdir -p "$WORK/app/spool" "$WORK/app/tmp"
app_run "$BUILD/migrate" up >"$WORK/app/migrate.out" 2>&1 || fail "migrate: $(tail -n 5 "$WORK/app/migrate.out")"
app_run "$BUILD/admin" create-user "$EDITOR" "$PASSWORD" editor >/dev/null || fail "admin create-user"
sed -e "s|@VAR@|$WORK/app|g" -e "s|@APP1@|${IP[app]}|g" -e "s|@APP2@|${IP[app]}|g" \
    tests/cluster/lb.conf.in >"$WORK/app/nginx.conf"
app_env
on app env "${APP_ENV[@]}" "$BUILD/server" </dev/null >"$WORK/app/server.out" 2>&1 &
SERVER_PID=$!
# nginx after the server listens: a refused connection would take the server out of its upstream.
listens() { on app ss -Hltn "sport = :9000" | grep -q .; }
poll 30 listens || fail "the server does not listen on ${IP[app]}:9000: $(tail -n 5 "$WORK/app/server.out")"
on app nginx -p "$WORK/app/" -c nginx.conf -e "$WORK/app/error.log" -g 'daemon off;' \
    </dev/null >"$WORK/app/nginx.out" 2>&1 &
NGINX_PID=$!
app_healthy() { [ "$(http /api/health)" = 200 ]; }
poll 30 app_healthy || fail "no health from the app: $(http /api/health)"
write_ok before || fail "no 201 for a movie written through the app"
ok

step "the Patroni leader's host powered off, and the Redis master: Patroni and Sentinel promote, writes work again"
# The Redis master is db1 (the first of --redis-cluster); the first Patroni leader is whichever
# member took the leader key first. When that is not db1, db1's redis-server is stopped too.
old=$(patroni_leader db1)
dead= other=
for d in "${DBS[@]}"; do
    if [ "${IP[$d]}" = "$old" ]; then dead=$d; elif [ -z "$other" ]; then other=$d; fi
done
[ -n "$dead" ] || fail "no host has the leader's address '$old'"
sleep 1  # the session and the rows replicated (Redis: asynchronously)
t_down=$(date +%s%3N)
power_off "$dead"
[ "$dead" = db1 ] || on_ct db1 systemctl stop redis-server
# Sentinel first: it promotes within seconds, Patroni within its ttl (10 s).
moved() { SENTINEL_WANT=$(sentinel_master "$other") && [ -n "$SENTINEL_WANT" ] && [ "$SENTINEL_WANT" != "${IP[db1]}" ]; }
poll 30 moved || fail "the Sentinels keep ${IP[db1]}"
t_redis=$(($(date +%s%3N) - t_down))
poll 60 leader_is_not "$old" "$other" || fail "no new Patroni leader; $other sees: $(patroni_roles "$other")"
t_pg=$(($(date +%s%3N) - t_down))
for d in "${DBS[@]}"; do
    [ "$d" = "$dead" ] || poll 10 sentinels_agree "$d" || fail "$d's Sentinel names $(sentinel_master "$d"), not $SENTINEL_WANT"
done
poll 60 write_ok after || fail "no write through the app after the failover"
t_write=$(($(date +%s%3N) - t_down))
new=$(patroni_leader "$other")
rows=$(on app env PGPASSWORD="$DB_PW" "$PSQL" -X -tA -h "$new" -U restpie -d restpie \
    -c "SELECT count(*) FROM movies WHERE director = 'ha-$RUN_ID'")
[ "$rows" = 2 ] || fail "$rows rows of this run on the new leader, want 2 (before and after)"
ok "$dead powered off; Patroni leader $new after $t_pg ms, Redis master $SENTINEL_WANT after $t_redis ms, a write after $t_write ms"

step "$dead boots again: etcd, Patroni and Redis rejoin, as replicas"
link "$dead" up
boot_start "$WORK/$dead" "$dead" "--network-namespace-path=/run/netns/$PREFIX$dead"
NSPAWN_PID[$dead]=$BOOT_NSPAWN_PID CT_PID[$dead]=$BOOT_PID
[ "$dead" = db1 ] || on_ct db1 systemctl start redis-server
poll 60 etcd_healthy "$dead" || fail "etcd on $dead is not healthy"
[ "$(etcd_members "$dead")" = 3 ] || fail "etcd on $dead knows $(etcd_members "$dead") members"
poll 120 cluster_formed "$other" || fail "Patroni's members: $(patroni_roles "$other")"
[ "$(patroni_leader "$other")" = "$new" ] || fail "the leader moved from $new to $(patroni_leader "$other")"
# Sentinel makes the old master (db1) a replica of the new one.
replicas() {
    on app redis-cli -h "$SENTINEL_WANT" -a "$REDIS_PW" --no-auth-warning info replication |
        tr -d '\r' | grep -qx 'connected_slaves:2'
}
poll 60 replicas || fail "the Redis master $SENTINEL_WANT has not 2 replicas"
ok "$(patroni_roles "$other"); Redis master $SENTINEL_WANT with 2 replicas"

steps_passed "booted HA test" "$WORK/summary.txt"
