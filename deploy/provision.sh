#!/usr/bin/env bash
# provision.sh: makes a Debian 12 server run the app under systemd; as root, idempotent.
#
#   deploy/provision.sh [OPTIONS] [SOURCE_DIR]    SOURCE_DIR: the checkout to install (default:
#                                                 this one; the Vagrantfile passes /vagrant)
#     --server-name NAME    nginx server_name (default _: any name)
#     --tls-cert PATH --tls-key PATH   serve HTTPS with this certificate (HTTP then redirects)
#     --http-port N (80)  --https-port N (443)  --metrics-port N (9117)
#     --db-port N (5432)  --redis-port N (6379)  the local PostgreSQL and Redis listen there
#   Several machines (README "Scaling out"): each runs some of the four roles.
#     --roles LIST          of web,app,db,redis, comma-separated (default: all four here)
#     --app-servers LIST    web: the app servers' FastCGI addresses, HOST:PORT,... (default: this
#                           machine's socket; needed when app is not a role here)
#     --listen HOST:PORT    app: FastCGI on TCP at this address, not on /run/restpie/app.sock
#     --web-servers LIST    app: the only addresses that may connect to it (fcgi_web_server_addrs)
#     --db-hosts LIST       app: PostgreSQL's host(s), comma-separated (default 127.0.0.1)
#     --redis-host HOST     app: Redis's host (default 127.0.0.1)
#     --redis-sentinels LIST  app: HOST:PORT,... of Redis Sentinels, which name the master
#                           (redis_sentinels; redis_master_name in the config, default restpie)
#     --secrets FILE        app: the secrets.json (db and Redis passwords) the db and redis
#                           machines wrote in /etc/restpie; db, redis: use these passwords
#     --allow CIDR          db, redis: the app servers' network: listen on every address and let
#                           that network in (PostgreSQL: pg_hba; Redis: by password)
#   PostgreSQL and Redis that survive losing a machine (README "Scaling out"), on 3 db hosts:
#     --db-cluster LIST     db: the db hosts' addresses, comma-separated, this host's among them:
#                           an etcd member and PostgreSQL under Patroni (/etc/default/etcd,
#                           /etc/patroni/config.yml; Debian's etcd and patroni units), not
#                           Debian's own cluster; needs --allow. The first host provisioned makes
#                           the passwords: give its secrets.json to the others (--secrets)
#     --redis-cluster LIST  redis: the redis hosts' addresses, this host's among them: the first
#                           is the first master, the others its replicas, each with a Sentinel
#                           (/etc/redis/sentinel.conf, on port 26379; master name restpie)
#
# What it makes (README "Operating a server"):
#   /opt/restpie/releases/<id>   the code and its build, root's, one per distinct source tree
#   /opt/restpie/current         -> the release that runs
#   /etc/restpie/server-config.json   the real config with its secrets: written once (the keys
#                                a cluster option names are set again when it is given)
#   /etc/restpie/secrets.json    the database's and Redis's passwords (root, 0600): written once
#   /var/lib/restpie/spool       the task queue; /var/log/restpie/app.log; /var/backups/restpie
#   nginx: /etc/nginx/sites-available/restpie written once (the operator's and certbot's), the
#   app's part in /etc/nginx/snippets/restpie-*.conf and conf.d/restpie.conf, always replaced
#   systemd: restpie.target = app-server + app-spooler + app-cron; restpie-backup.timer
# A second run builds a release only when the source changed, then reloads gracefully; it never
# touches the config, the database's data, the spool or the nginx site.
set -euo pipefail

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

SERVER_NAME=_ TLS_CERT= TLS_KEY= HTTP_PORT=80 HTTPS_PORT=443 METRICS_PORT=9117 DB_PORT=5432
REDIS_PORT=6379 SRC_ARG= ROLES=web,app,db,redis APP_SERVERS= LISTEN= WEB_SERVERS= DB_HOSTS=
REDIS_HOST= REDIS_SENTINELS= SECRETS_FROM= ALLOW= DB_CLUSTER= REDIS_CLUSTER=
while [ $# -gt 0 ]; do
    case $1 in
        --server-name) SERVER_NAME=${2:?}; shift ;;
        --tls-cert) TLS_CERT=${2:?}; shift ;;
        --tls-key) TLS_KEY=${2:?}; shift ;;
        --http-port) HTTP_PORT=${2:?}; shift ;;
        --https-port) HTTPS_PORT=${2:?}; shift ;;
        --metrics-port) METRICS_PORT=${2:?}; shift ;;
        --db-port) DB_PORT=${2:?}; shift ;;
        --redis-port) REDIS_PORT=${2:?}; shift ;;
        --roles) ROLES=${2:?}; shift ;;
        --app-servers) APP_SERVERS=${2:?}; shift ;;
        --listen) LISTEN=${2:?}; shift ;;
        --web-servers) WEB_SERVERS=${2:?}; shift ;;
        --db-hosts) DB_HOSTS=${2:?}; shift ;;
        --redis-host) REDIS_HOST=${2:?}; shift ;;
        --redis-sentinels) REDIS_SENTINELS=${2:?}; shift ;;
        --secrets) SECRETS_FROM=${2:?}; shift ;;
        --allow) ALLOW=${2:?}; shift ;;
        --db-cluster) DB_CLUSTER=${2:?}; shift ;;
        --redis-cluster) REDIS_CLUSTER=${2:?}; shift ;;
        -h | --help) usage ;;
        -*) printf 'error: unknown option %s\n' "$1" >&2; usage ;;
        *) [ -z "$SRC_ARG" ] || usage; SRC_ARG=$1 ;;
    esac
    shift
done

SRC=$(cd "${SRC_ARG:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)
# shellcheck source=deploy/lib.sh
source "$SRC/deploy/lib.sh"

is_root || die "run me as root"
has_role() { [[ ,$ROLES, == *,$1,* ]]; }
for r in ${ROLES//,/ }; do
    case $r in web | app | db | redis) ;; *) die "not a role: $r (web, app, db, redis)" ;; esac
done
[ -n "${ROLES//,/}" ] || die "--roles: at least one of web, app, db, redis"
for p in "$HTTP_PORT" "$HTTPS_PORT" "$METRICS_PORT" "$DB_PORT" "$REDIS_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "not a port: $p"
done
[[ $SERVER_NAME =~ ^[A-Za-z0-9._*\ -]+$ ]] || die "not a server name: $SERVER_NAME"
if [ -n "$TLS_CERT$TLS_KEY" ]; then
    [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ] || die "--tls-cert and --tls-key: both, readable files"
fi
# The cluster options: each belongs to a role, and takes plain addresses (they end up in nginx's,
# PostgreSQL's and the app's config files).
needs_role() { [ -z "$2" ] || has_role "$1" || die "$3 is for the $1 role, not among --roles $ROLES"; }
needs_role web "$APP_SERVERS" --app-servers
needs_role app "$LISTEN" --listen
needs_role app "$WEB_SERVERS" --web-servers
needs_role app "$DB_HOSTS" --db-hosts
needs_role app "$REDIS_HOST" --redis-host
needs_role app "$REDIS_SENTINELS" --redis-sentinels
needs_role db "$DB_CLUSTER" --db-cluster
needs_role redis "$REDIS_CLUSTER" --redis-cluster
[ -z "$ALLOW" ] || has_role db || has_role redis || die "--allow is for the db and redis roles"
[ -z "$DB_CLUSTER" ] || [ -n "$ALLOW" ] || die "--db-cluster needs --allow CIDR (the app servers' network)"
host_port='([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}'
ip_address='([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*)'  # IPv4 or IPv6
for a in ${APP_SERVERS//,/ }; do
    [[ $a =~ ^($host_port|unix:/[A-Za-z0-9/._-]+)$ ]] || die "--app-servers: HOST:PORT, not $a"
done
[ -z "$LISTEN" ] || [[ $LISTEN =~ ^$host_port$ ]] || die "--listen: HOST:PORT, not $LISTEN"
for a in ${REDIS_SENTINELS//,/ }; do
    [[ $a =~ ^$host_port$ ]] || die "--redis-sentinels: HOST:PORT, not $a"
done
for a in ${WEB_SERVERS//,/ }; do
    [[ $a =~ ^$ip_address$ ]] || die "--web-servers: IP addresses, not $a"
done
for a in ${DB_HOSTS//,/ } $REDIS_HOST; do
    [[ $a =~ ^[A-Za-z0-9.:-]+$ ]] || die "--db-hosts, --redis-host: host names or addresses, not $a"
done
[ -z "$ALLOW" ] || [[ $ALLOW =~ ^$ip_address/[0-9]{1,3}$ ]] || die "--allow: a CIDR, not $ALLOW"
[ -z "$SECRETS_FROM" ] || [ -r "$SECRETS_FROM" ] || die "--secrets: cannot read $SECRETS_FROM"
# cluster_address OPTION LIST: LIST's addresses checked (an odd number: etcd and the Sentinels
# need a majority); prints the one this host has (hostname -I), which must be exactly one.
cluster_address() {
    local a n=0 mine=() own
    own=" $(hostname -I 2>/dev/null) "
    for a in ${2//,/ }; do
        [[ $a =~ ^$ip_address$ ]] || die "$1: IP addresses, comma-separated, not $a"
        n=$((n + 1))
        [[ $own != *" $a "* ]] || mine+=("$a")
    done
    [ $((n % 2)) = 1 ] || die "$1: an odd number of addresses (1, 3, 5), not $n: a majority must agree"
    [ ${#mine[@]} = 1 ] ||
        die "$1 $2: exactly one of them must be this host's (hostname -I: $(hostname -I 2>/dev/null))"
    printf '%s\n' "${mine[0]}"
}
DB_ADDR= REDIS_ADDR=
[ -z "$DB_CLUSTER" ] || DB_ADDR=$(cluster_address --db-cluster "$DB_CLUSTER")
[ -z "$REDIS_CLUSTER" ] || REDIS_ADDR=$(cluster_address --redis-cluster "$REDIS_CLUSTER")
if has_role web && ! has_role app && [ -z "$APP_SERVERS" ]; then
    die "the web role without the app role needs --app-servers (where the app servers listen)"
fi
if has_role app && ! has_role web && [ -z "$LISTEN" ]; then
    die "the app role without the web role needs --listen HOST:PORT (nginx elsewhere cannot reach a unix socket)"
fi

OPT=/opt/restpie
ETC=/etc/restpie
CONF=$ETC/server-config.json
SECRETS=$ETC/secrets.json
STATE=/var/lib/restpie
LOGDIR=/var/log/restpie
BACKUPS=/var/backups/restpie
START=$SECONDS

# Installed with their services stopped (lib.sh): PostgreSQL and Redis get their ports first.
pkgs=(curl rsync jq)
has_role app && pkgs+=(build-essential cmake pkg-config libfcgi-dev spawn-fcgi libpqxx-dev
    libhiredis-dev rapidjson-dev libscrypt-dev libssl-dev liblog4cplus-dev libboost-dev
    libkainjow-mustache-dev postgresql-client logrotate)
has_role web && pkgs+=(nginx)
PG_VERSION=15  # Debian 12's
if [ -n "$DB_CLUSTER" ]; then
    # Patroni makes PostgreSQL's cluster: Debian's package must not make its own (main) first.
    ensure_packages postgresql-common
    conf=/etc/postgresql-common/createcluster.conf
    [ "$(pg_conftool -s "$conf" show create_main_cluster 2>/dev/null)" = false ] ||
        pg_conftool "$conf" set create_main_cluster false
    pkgs+=("${HA_DB_PACKAGES[@]}")
elif has_role db; then
    pkgs+=(postgresql)
fi
if [ -n "$REDIS_CLUSTER" ]; then
    pkgs+=("${HA_REDIS_PACKAGES[@]}")
elif has_role redis; then
    pkgs+=(redis-server)
fi
ensure_packages "${pkgs[@]}"
[ -d "$ETC" ] || install -d -m 750 "$ETC"  # the app role gives it to group restpie

say "secrets $SECRETS"
# The passwords every machine of a cluster shares: made once, on the first machine provisioned
# (from an older server's config when there is one), copied to the others with --secrets.
new_password() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
if [ -n "$SECRETS_FROM" ]; then
    jq -e '.db_password and .redis_password != null' "$SECRETS_FROM" >/dev/null ||
        die "--secrets $SECRETS_FROM: a JSON object with db_password and redis_password"
    [ "$(realpath "$SECRETS_FROM")" = "$SECRETS" ] || install -m 600 "$SECRETS_FROM" "$SECRETS"
elif [ ! -f "$SECRETS" ]; then
    if [ -f "$CONF" ]; then
        jq '{db_password, redis_password}' "$CONF"
    else
        jq -n --arg db "$(new_password)" --arg redis "$(new_password)" \
            '{db_password: $db, redis_password: $redis}'
    fi | install -m 600 /dev/stdin "$SECRETS"
fi
if [ -n "$DB_CLUSTER" ] && ! jq -e '.db_superuser_password and .db_replication_password' "$SECRETS" >/dev/null; then
    # Patroni's two passwords: every db host must have the same, so only the first makes them.
    [ -z "$SECRETS_FROM" ] || die "--secrets $SECRETS_FROM: no db_superuser_password and" \
        "db_replication_password: give the secrets.json of the db host provisioned first"
    jq --arg su "$(new_password)" --arg repl "$(new_password)" \
        '.db_superuser_password = $su | .db_replication_password = $repl' "$SECRETS" |
        install -m 600 /dev/stdin "$SECRETS.tmp"
    mv "$SECRETS.tmp" "$SECRETS"
fi
db_pw=$(jq -r .db_password "$SECRETS") redis_pw=$(jq -r .redis_password "$SECRETS")
[[ $db_pw =~ ^[A-Za-z0-9]+$ ]] || die "no db_password of letters and digits in $SECRETS"
[[ $redis_pw =~ ^[A-Za-z0-9]*$ ]] || die "redis_password in $SECRETS: letters and digits"
db_name=$(jq -r '.db_name // "restpie"' "$CONF" 2>/dev/null || echo restpie)
db_user=$(jq -r '.db_user // "restpie"' "$CONF" 2>/dev/null || echo restpie)
[[ $db_name$db_user =~ ^[a-z_][a-z0-9_]*$ ]] || die "db_name, db_user: lowercase names in $CONF"

if [ -n "$DB_CLUSTER" ]; then
    say "etcd and Patroni (PostgreSQL $PG_VERSION on port $DB_PORT), member $DB_ADDR of $DB_CLUSTER"
    taken=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$DB_PORT" '$3 == p { print $1 "/" $2 }')
    [ -z "$taken" ] || die "Debian's PostgreSQL cluster $taken has port $DB_PORT, which Patroni's" \
        "cluster needs: move its data away (pg_dump), then pg_dropcluster --stop ${taken/\// }"
    # etcd: a member of the db hosts' cluster; a data directory of its own, so that a single-node
    # etcd the package may have started before is no part of it.
    etcd_conf=$(printf '# written by deploy/provision.sh --db-cluster (deploy/lib.sh ha_etcd_env)\n'
        ha_etcd_env "$DB_ADDR" "$DB_CLUSTER" /var/lib/etcd/restpie restpie)
    # etcd tells systemd it is ready once a majority of the members runs: the first db host
    # provisioned waits for the others as long as they take.
    install -d /etc/systemd/system/etcd.service.d
    printf '# written by deploy/provision.sh --db-cluster\n[Service]\nTimeoutStartSec=infinity\n' \
        >/etc/systemd/system/etcd.service.d/restpie.conf
    systemctl daemon-reload
    systemctl enable -q etcd
    if [ "$(cat /etc/default/etcd)" != "$etcd_conf" ] || ! systemctl is-active -q etcd; then
        printf '%s\n' "$etcd_conf" >/etc/default/etcd
        # Not waited for: etcd is ready only once a majority of the db hosts runs it.
        systemctl restart --no-block etcd
    fi
    # Patroni: Debian's patroni.service runs /etc/patroni/config.yml as postgres.
    install -d -o postgres -g postgres -m 755 "/var/lib/postgresql/$PG_VERSION"
    bootstrap=/etc/patroni/restpie-post-bootstrap.sh
    ha_post_bootstrap "$db_name" "$db_user" "$db_pw" | install -m 750 -g postgres /dev/stdin "$bootstrap"
    patroni_conf=$(HA_SCOPE=restpie HA_ADDRESS=$DB_ADDR HA_PEERS=$DB_CLUSTER HA_PORT=$DB_PORT \
        HA_DATA_DIR=/var/lib/postgresql/$PG_VERSION/restpie HA_BIN_DIR=/usr/lib/postgresql/$PG_VERSION/bin \
        HA_SOCKET_DIR=/var/run/postgresql HA_PGPASS=/var/lib/postgresql/restpie.pgpass HA_ALLOW=$ALLOW \
        HA_DB_NAME=$db_name HA_DB_USER=$db_user HA_POST_BOOTSTRAP=$bootstrap HA_PARAMETERS= \
        HA_SUPERUSER_PASSWORD=$(jq -r .db_superuser_password "$SECRETS") \
        HA_REPLICATION_PASSWORD=$(jq -r .db_replication_password "$SECRETS") ha_patroni_yml)
    systemctl enable -q patroni
    if [ "$(cat /etc/patroni/config.yml 2>/dev/null)" != "$patroni_conf" ]; then
        printf '%s\n' "$patroni_conf" | install -m 640 -g postgres /dev/stdin /etc/patroni/config.yml
        # A running Patroni reads its file again on SIGHUP (its PostgreSQL keeps running).
        systemctl reload-or-restart patroni
    else
        systemctl start patroni
    fi
elif has_role db; then
    say "PostgreSQL on port $DB_PORT${ALLOW:+, open to $ALLOW}"
    read -r PG_VERSION PG_CLUSTER < <(pg_lsclusters --no-header | awk 'NR == 1 { print $1, $2 }')
    [ -n "${PG_CLUSTER:-}" ] || die "no PostgreSQL cluster (pg_lsclusters shows none)"
    pg_unit=postgresql@$PG_VERSION-$PG_CLUSTER
    pg_restart=
    if [ "$(pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" show port)" != "$DB_PORT" ]; then
        pg_conftool "$PG_VERSION" "$PG_CLUSTER" set port "$DB_PORT"
        pg_restart=1
    fi
    if [ -n "$ALLOW" ]; then
        if [ "$(pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" show listen_addresses 2>/dev/null)" != '*' ]; then
            pg_conftool "$PG_VERSION" "$PG_CLUSTER" set listen_addresses '*'
            pg_restart=1
        fi
        hba=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/pg_hba.conf
        line="host $db_name $db_user $ALLOW scram-sha-256  # restpie app servers"
        grep -qxF "$line" "$hba" || { printf '%s\n' "$line" >>"$hba"; pg_restart=${pg_restart:-reload}; }
    fi
    systemctl enable -q --now postgresql "$pg_unit"
    case $pg_restart in 1) systemctl restart "$pg_unit" ;; reload) systemctl reload "$pg_unit" ;; esac

    say "PostgreSQL role and database"
    psql_pg() { (cd / && runuser -u postgres -- psql -X -q -p "$DB_PORT" -v ON_ERROR_STOP=1 "$@"); }
    wait_until 30 psql_pg -c 'SELECT 1' || die "PostgreSQL does not answer on port $DB_PORT"
    # On stdin, so the password shows in no process list.
    if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$db_user'")" = 1 ]; then
        psql_pg <<<"ALTER ROLE $db_user LOGIN PASSWORD '$db_pw';"
    else
        psql_pg <<<"CREATE ROLE $db_user LOGIN PASSWORD '$db_pw';"
    fi
    if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]; then
        psql_pg -c "CREATE DATABASE $db_name OWNER $db_user"
    fi
fi

if has_role redis; then
    say "Redis on port $REDIS_PORT${ALLOW:+, open to $ALLOW}"
    rconf=/etc/redis/redis.conf r_changed=
    set_redis() {  # set_redis KEY VALUE: one "KEY VALUE" line in redis.conf
        # As Redis writes it back after a failover (CONFIG REWRITE): the value may be quoted.
        [ "$(awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); gsub(/"/, ""); print; exit }' "$rconf")" = "$2" ] &&
            return 0
        sed -i "/^$1 /d" "$rconf"
        printf '%s %s\n' "$1" "$2" >>"$rconf"
        r_changed=1
    }
    set_redis port "$REDIS_PORT"
    # Debian's Redis listens on localhost only; the app servers' network gets in by password
    # (Redis has no address list: keep the port closed to anyone else with a firewall).
    if [ -n "$ALLOW$REDIS_CLUSTER" ]; then set_redis bind '* -::*'; else set_redis bind '127.0.0.1 -::1'; fi
    if [ -n "$redis_pw" ]; then set_redis requirepass "$redis_pw"; fi
    sconf=/etc/redis/sentinel.conf
    if [ -n "$REDIS_CLUSTER" ] && ! grep -q '^sentinel monitor restpie ' "$sconf"; then
        # The first run: the first master and its replicas. Later, Sentinel moves the master and
        # rewrites both files, and provisioning leaves them to it.
        say "Redis replication and Sentinel, member $REDIS_ADDR of $REDIS_CLUSTER"
        [ -n "$redis_pw" ] || die "--redis-cluster: the redis_password in $SECRETS is empty"
        master=${REDIS_CLUSTER%%,*}
        while read -r key value; do set_redis "$key" "$value"; done \
            < <(ha_redis_settings "$REDIS_ADDR" "$master" "$REDIS_PORT" "$redis_pw")
        {
            printf '# written by deploy/provision.sh --redis-cluster (deploy/lib.sh ha_sentinel_conf)\n'
            printf 'pidfile /run/sentinel/redis-sentinel.pid\nlogfile /var/log/redis/redis-sentinel.log\n'
            printf 'dir /var/lib/redis\n'
            ha_sentinel_conf "$REDIS_ADDR" "$master" "$REDIS_PORT" \
                "$(tr ',' '\n' <<<"$REDIS_CLUSTER" | grep -c .)" "$redis_pw"
        } | install -m 640 -o redis -g redis /dev/stdin "$sconf"
        s_changed=1
    fi
    systemctl enable -q --now redis-server
    [ -z "$r_changed" ] || systemctl restart redis-server
    if [ -n "$REDIS_CLUSTER" ]; then
        systemctl enable -q --now redis-sentinel
        [ -z "${s_changed:-}" ] || systemctl restart redis-sentinel
    fi
fi

if has_role app; then
    say "user restpie; $STATE, $LOGDIR, $BACKUPS, $ETC"
    id restpie >/dev/null 2>&1 ||
        useradd --system --user-group --home-dir "$STATE" --shell /usr/sbin/nologin restpie
    install -d -m 755 -o root -g root "$OPT" "$OPT/releases"
    install -d -m 750 -o restpie -g restpie "$STATE" "$STATE/spool" "$LOGDIR"
    install -d -m 750 -o root -g root "$BACKUPS"  # restpie-backup.service dumps as root
    chgrp restpie "$ETC"

    say "config $CONF"
    # Written once from the template, with this server's values; the password never leaves it.
    # The Redis password only when a Redis of ours asks for one (an older local Redis does not).
    [ -n "$DB_HOSTS" ] || has_role db || DB_HOSTS=127.0.0.1
    [ -n "$REDIS_HOST$REDIS_SENTINELS" ] || has_role redis || REDIS_HOST=127.0.0.1
    if [ ! -f "$CONF" ]; then
        umask 027
        jq --arg pw "$db_pw" --arg rpw "$redis_pw" --argjson db_port "$DB_PORT" \
            --argjson redis_port "$REDIS_PORT" --arg metrics "127.0.0.1:$METRICS_PORT" \
            --arg opt "$OPT/current" \
            '.db_password = $pw | .redis_password = $rpw | .db_port = $db_port
             | .redis_port = $redis_port | .metrics_listen = $metrics
             | .log_file = "/var/log/restpie/app.log" | .spool_dir = "/var/lib/restpie/spool"
             | .template_dir = ($opt + "/app/templates") | .migrations_dir = ($opt + "/migrations")
             | .reload_file = "/var/lib/restpie/RESTART" | .reload_on_rebuild = false' \
            "$SRC/conf/server-config.json" >"$CONF.tmp"
        umask 022
        chown root:restpie "$CONF.tmp"
        mv "$CONF.tmp" "$CONF"
    fi
    # The cluster options given now win over what the config says.
    set_conf() {  # set_conf JQ_FILTER ARGS...: the config rewritten in place, owner and mode kept
        jq "${@:2}" "$1" "$CONF" >"$CONF.tmp" && cat "$CONF.tmp" >"$CONF" && rm -f "$CONF.tmp"
    }
    [ -z "$DB_HOSTS" ] || set_conf '.db_host = $h' --arg h "$DB_HOSTS"
    [ -z "$REDIS_HOST" ] || set_conf '.redis_host = $h' --arg h "$REDIS_HOST"
    [ -z "$REDIS_SENTINELS" ] ||
        set_conf '.redis_sentinels = ($a | split(","))' --arg a "$REDIS_SENTINELS"
    [ -z "$WEB_SERVERS" ] ||
        set_conf '.fcgi_web_server_addrs = ($a | split(","))' --arg a "$WEB_SERVERS"
    [[ $(jq -r .db_password "$CONF") =~ ^[A-Za-z0-9]+$ ]] ||
        die "no db_password of letters and digits in $CONF"

    say "logrotate, systemd units"
    install -m 644 "$SRC/deploy/logrotate.conf" /etc/logrotate.d/restpie
    install -m 644 "$SRC"/systemd/*.service "$SRC"/systemd/*.socket "$SRC"/systemd/*.timer \
        "$SRC"/systemd/*.target /etc/systemd/system/
    install -d /etc/systemd/system/app-.service.d
    install -m 644 "$SRC"/systemd/app-.service.d/*.conf /etc/systemd/system/app-.service.d/
    # --listen: the socket systemd holds for the server is TCP at that address instead.
    dropin=/etc/systemd/system/app-server.socket.d/listen.conf
    old_dropin=$(cat "$dropin" 2>/dev/null || true)
    if [ -n "$LISTEN" ]; then
        install -d "${dropin%/*}"
        printf '# written by deploy/provision.sh --listen\n[Socket]\nListenStream=\nListenStream=%s\n' \
            "$LISTEN" >"$dropin"
    else
        rm -f "$dropin"
    fi
    systemctl daemon-reload
    if [ "$old_dropin" != "$(cat "$dropin" 2>/dev/null || true)" ] &&
        systemctl is-active -q app-server.socket; then
        # A socket unit takes a new address only when restarted, and only with its service down.
        systemctl stop app-server app-server.socket
    fi
    systemctl enable -q restpie.target app-server app-spooler app-cron restpie-backup.timer
    systemctl start restpie-backup.timer
fi

if has_role web; then
    say "nginx"
    nginx_render "$SRC/nginx/http.conf.in" >/etc/nginx/conf.d/restpie.conf
    nginx_render "$SRC/nginx/app.conf" >/etc/nginx/snippets/restpie-app.conf
    install -m 644 "$SRC/nginx/json-errors.conf" /etc/nginx/snippets/restpie-json-errors.conf
    site=/etc/nginx/sites-available/restpie
    if [ ! -f "$site" ] || ! grep -q 'restpie-app.conf' "$site"; then
        [ ! -f "$site" ] || cp -p "$site" "$site.before-provision"  # an older layout's site
        if [ -n "$TLS_CERT" ]; then nginx_render "$SRC/nginx/site-tls.conf.in"; else
            nginx_render "$SRC/nginx/site.conf.in"; fi >"$site"
    fi
    ln -sfn ../sites-available/restpie /etc/nginx/sites-enabled/restpie
    rm -f /etc/nginx/sites-enabled/default  # its default_server would answer port 80 instead of ours
    nginx -t -q
    systemctl enable -q nginx
    systemctl reload-or-restart nginx
fi

if has_role app; then
    # The release: built, checked, migrated, switched to; the services reloaded into it (or
    # started).
    commit=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || true)
    bash "$SRC/deploy/release.sh" deploy "$SRC" ${commit:+--commit "$commit"}
    systemctl start restpie.target
fi

if has_role web; then
    url=http://127.0.0.1:$HTTP_PORT/api/health
    wait_until 20 curl -fsS -o /dev/null "$url" || die "no answer from $url; see journalctl -u app-server"
    say "provisioned ($ROLES) in $((SECONDS - START)) s: $url answers"
elif has_role app; then
    wait_until 20 systemctl is-active -q app-server || die "app-server is not running; see journalctl -u app-server"
    say "provisioned ($ROLES) in $((SECONDS - START)) s: app-server runs, FastCGI on $LISTEN"
else
    say "provisioned ($ROLES) in $((SECONDS - START)) s"
fi
