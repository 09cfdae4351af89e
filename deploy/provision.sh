#!/usr/bin/env bash
# provision.sh: makes a Debian 12 server run the app under systemd; as root, idempotent.
#
#   deploy/provision.sh [OPTIONS] [SOURCE_DIR]    SOURCE_DIR: the checkout to install (default:
#                                                 this one; the Vagrantfile passes /vagrant)
#     --server-name NAME    nginx server_name (default _: any name)
#     --tls-cert PATH --tls-key PATH   serve HTTPS with this certificate (HTTP then redirects)
#     --http-port N (80)  --https-port N (443)  --metrics-port N (9117)
#     --db-port N (5432)  --redis-port N (6379)  the local PostgreSQL and Redis listen there
#
# What it makes (README "Operating a server"):
#   /opt/restpie/releases/<id>   the code and its build, root's, one per distinct source tree
#   /opt/restpie/current         -> the release that runs
#   /etc/restpie/server-config.json   the real config with its secrets: written once
#   /var/lib/restpie/spool       the task queue; /var/log/restpie/app.log; /var/backups/restpie
#   nginx: /etc/nginx/sites-available/restpie written once (the operator's and certbot's), the
#   app's part in /etc/nginx/snippets/restpie-*.conf and conf.d/restpie.conf, always replaced
#   systemd: restpie.target = app-server + app-spooler + app-cron; restpie-backup.timer
# A second run builds a release only when the source changed, then reloads gracefully; it never
# touches the config, the database's data, the spool or the nginx site.
set -euo pipefail

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

SERVER_NAME=_ TLS_CERT= TLS_KEY= HTTP_PORT=80 HTTPS_PORT=443 METRICS_PORT=9117 DB_PORT=5432
REDIS_PORT=6379 SRC_ARG=
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
for p in "$HTTP_PORT" "$HTTPS_PORT" "$METRICS_PORT" "$DB_PORT" "$REDIS_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "not a port: $p"
done
[[ $SERVER_NAME =~ ^[A-Za-z0-9._*\ -]+$ ]] || die "not a server name: $SERVER_NAME"
if [ -n "$TLS_CERT$TLS_KEY" ]; then
    [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ] || die "--tls-cert and --tls-key: both, readable files"
fi

OPT=/opt/restpie
ETC=/etc/restpie
CONF=$ETC/server-config.json
STATE=/var/lib/restpie
LOGDIR=/var/log/restpie
BACKUPS=/var/backups/restpie
START=$SECONDS

# Installed with their services stopped (lib.sh): PostgreSQL and Redis get their ports first.
ensure_packages build-essential cmake pkg-config libfcgi-dev spawn-fcgi libpqxx-dev \
    libhiredis-dev rapidjson-dev libscrypt-dev liblog4cplus-dev libboost-dev libsystemd-dev \
    libkainjow-mustache-dev nginx postgresql redis-server logrotate curl rsync jq

say "PostgreSQL on port $DB_PORT, Redis on port $REDIS_PORT"
read -r PG_VERSION PG_CLUSTER < <(pg_lsclusters --no-header | awk 'NR == 1 { print $1, $2 }')
[ -n "${PG_CLUSTER:-}" ] || die "no PostgreSQL cluster (pg_lsclusters shows none)"
pg_unit=postgresql@$PG_VERSION-$PG_CLUSTER
if [ "$(pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" show port)" != "$DB_PORT" ]; then
    pg_conftool "$PG_VERSION" "$PG_CLUSTER" set port "$DB_PORT"
    systemctl try-restart "$pg_unit"
fi
# Debian's Redis listens on localhost only.
if ! grep -qx "port $REDIS_PORT" /etc/redis/redis.conf; then
    sed -i "s/^port .*/port $REDIS_PORT/" /etc/redis/redis.conf
    systemctl try-restart redis-server
fi
systemctl enable -q --now postgresql "$pg_unit" redis-server

say "user restpie; $STATE, $LOGDIR, $BACKUPS, $ETC"
id restpie >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir "$STATE" --shell /usr/sbin/nologin restpie
install -d -m 755 -o root -g root "$OPT" "$OPT/releases"
install -d -m 750 -o restpie -g restpie "$STATE" "$STATE/spool" "$LOGDIR"
install -d -m 750 -o root -g root "$BACKUPS"  # restpie-backup.service dumps as root
install -d -m 750 -o root -g restpie "$ETC"

say "config $CONF"
# Written once from the template, with this server's values; the password never leaves it.
if [ ! -f "$CONF" ]; then
    pw=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    umask 027
    jq --arg pw "$pw" --argjson db_port "$DB_PORT" --argjson redis_port "$REDIS_PORT" \
        --arg metrics "127.0.0.1:$METRICS_PORT" --arg opt "$OPT/current" \
        '.db_password = $pw | .db_port = $db_port | .redis_port = $redis_port
         | .metrics_listen = $metrics
         | .log_file = "/var/log/restpie/app.log" | .spool_dir = "/var/lib/restpie/spool"
         | .template_dir = ($opt + "/app/templates") | .migrations_dir = ($opt + "/migrations")
         | .reload_file = "/var/lib/restpie/RESTART" | .reload_on_rebuild = false' \
        "$SRC/conf/server-config.json" >"$CONF.tmp"
    umask 022
    chown root:restpie "$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
fi
pw=$(jq -r .db_password "$CONF")
[[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "no db_password of letters and digits in $CONF"
db_name=$(jq -r .db_name "$CONF") db_user=$(jq -r .db_user "$CONF")
[[ $db_name$db_user =~ ^[a-z_][a-z0-9_]*$ ]] || die "db_name, db_user: lowercase names in $CONF"

say "PostgreSQL role and database"
psql_pg() { (cd / && runuser -u postgres -- psql -X -q -p "$DB_PORT" -v ON_ERROR_STOP=1 "$@"); }
wait_until 30 psql_pg -c 'SELECT 1' || die "PostgreSQL does not answer on port $DB_PORT"
# On stdin, so the password shows in no process list.
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$db_user'")" = 1 ]; then
    psql_pg <<<"ALTER ROLE $db_user LOGIN PASSWORD '$pw';"
else
    psql_pg <<<"CREATE ROLE $db_user LOGIN PASSWORD '$pw';"
fi
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]; then
    psql_pg -c "CREATE DATABASE $db_name OWNER $db_user"
fi

say "nginx"
render() {  # render TEMPLATE: the @NAME@ placeholders filled in, on stdout
    sed -e "s|@HTTP_PORT@|$HTTP_PORT|g" -e "s|@HTTPS_PORT@|$HTTPS_PORT|g" \
        -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@TLS_CERT@|$TLS_CERT|g" \
        -e "s|@TLS_KEY@|$TLS_KEY|g" -e "s|@METRICS_PORT@|$METRICS_PORT|g" "$1"
}
render "$SRC/nginx/http.conf.in" >/etc/nginx/conf.d/restpie.conf
render "$SRC/nginx/app.conf" >/etc/nginx/snippets/restpie-app.conf
install -m 644 "$SRC/nginx/json-errors.conf" /etc/nginx/snippets/restpie-json-errors.conf
site=/etc/nginx/sites-available/restpie
if [ ! -f "$site" ] || ! grep -q 'restpie-app.conf' "$site"; then
    [ ! -f "$site" ] || cp -p "$site" "$site.before-provision"  # an older layout's site
    if [ -n "$TLS_CERT" ]; then render "$SRC/nginx/site-tls.conf.in"; else
        render "$SRC/nginx/site.conf.in"; fi >"$site"
fi
ln -sfn ../sites-available/restpie /etc/nginx/sites-enabled/restpie
rm -f /etc/nginx/sites-enabled/default  # its default_server would answer port 80 instead of ours
nginx -t -q
systemctl enable -q nginx
systemctl reload-or-restart nginx

say "logrotate, systemd units"
install -m 644 "$SRC/deploy/logrotate.conf" /etc/logrotate.d/restpie
install -m 644 "$SRC"/systemd/*.service "$SRC"/systemd/*.socket "$SRC"/systemd/*.timer \
    "$SRC"/systemd/*.target /etc/systemd/system/
install -d /etc/systemd/system/app-.service.d
install -m 644 "$SRC"/systemd/app-.service.d/*.conf /etc/systemd/system/app-.service.d/
systemctl daemon-reload
systemctl enable -q restpie.target app-server app-spooler app-cron restpie-backup.timer
systemctl start restpie-backup.timer

# The release: built, checked, migrated, switched to; the services reloaded into it (or started).
commit=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || true)
bash "$SRC/deploy/release.sh" deploy "$SRC" ${commit:+--commit "$commit"}
systemctl start restpie.target

url=http://127.0.0.1:$HTTP_PORT/api/health
wait_until 20 curl -fsS -o /dev/null "$url" || die "no answer from $url; see journalctl -u app-server"
say "provisioned in $((SECONDS - START)) s: $url answers"
