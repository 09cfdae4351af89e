#!/usr/bin/env bash
# provision.sh: makes a fresh Debian 12 (or Ubuntu 22.04+) server run the app; as root, idempotent.
#
#   deploy/provision.sh [SOURCE_DIR]     SOURCE_DIR: the checkout to install (default: this one;
#                                        the Vagrantfile passes /vagrant)
#
# Packages; a restpie user; the code in /opt/restpie; the real config with its secrets in
# /etc/restpie (written once, never overwritten); a PostgreSQL role and database; Redis; the nginx
# site (nginx/app.conf, nginx/json-errors.conf); the systemd units; build; migrate; start. Later
# releases: deploy/deploy.sh.
set -euo pipefail

SRC=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)
# shellcheck source=deploy/lib.sh
source "$SRC/deploy/lib.sh"

APP=/opt/restpie
ETC=/etc/restpie
CONF=$ETC/server-config.json
LOGDIR=/var/log/restpie

is_root || die "run me as root"

# nginx, not nginx-light (gone from newer releases); none of the local-development extras.
ensure_packages build-essential cmake pkg-config libfcgi-dev spawn-fcgi libpqxx-dev \
    libhiredis-dev rapidjson-dev libscrypt-dev liblog4cplus-dev libboost-test-dev libboost-dev \
    libkainjow-mustache-dev nginx postgresql redis-server curl rsync
systemctl enable --now postgresql redis-server nginx  # Debian's Redis listens on localhost only

say "user restpie, $APP, $LOGDIR, $ETC"
id restpie >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir "$APP" --shell /usr/sbin/nologin restpie
install -d -o restpie -g restpie "$APP" "$LOGDIR"
install -d -m 750 -o root -g restpie "$ETC"
if [ "$SRC" != "$APP" ]; then
    rsync -a --delete --exclude=/.git/ --exclude=/build/ --exclude=/var/ --exclude=/RESTART \
        --exclude=/conf/server-config.local.json "$SRC"/ "$APP"/
fi
chown -R restpie:restpie "$APP"

# The template's keys with this server's values; the password never leaves this machine.
if [ ! -f "$CONF" ]; then
    say "writing $CONF"
    pw=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    sed -e "s|\"db_password\": \"\"|\"db_password\": \"$pw\"|" \
        -e "s|\"log_file\": \"app.log\"|\"log_file\": \"$LOGDIR/app.log\"|" \
        "$APP/conf/server-config.json" >"$CONF"
    chown root:restpie "$CONF"
    chmod 640 "$CONF"
fi
pw=$(sed -n 's/^ *"db_password": "\(.*\)",$/\1/p' "$CONF")
[[ $pw =~ ^[A-Za-z0-9]+$ ]] || die "no db_password of letters and digits in $CONF"

say "PostgreSQL role and database restpie"
psql_pg() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"); }
# On stdin, so the password shows in no process list.
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'restpie'")" = 1 ]; then
    psql_pg <<<"ALTER ROLE restpie LOGIN PASSWORD '$pw';"
else
    psql_pg <<<"CREATE ROLE restpie LOGIN PASSWORD '$pw';"
fi
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = 'restpie'")" != 1 ]; then
    psql_pg -c "CREATE DATABASE restpie OWNER restpie"
fi

say "nginx site"
install -m 644 "$APP/nginx/app.conf" /etc/nginx/sites-available/restpie
# app.conf includes it by this name: nginx's own errors as JSON, shared with local.conf.in.
install -m 644 "$APP/nginx/json-errors.conf" /etc/nginx/snippets/restpie-json-errors.conf
ln -sfn ../sites-available/restpie /etc/nginx/sites-enabled/restpie
rm -f /etc/nginx/sites-enabled/default  # its default_server would answer port 80 instead of ours
nginx -t -q
systemctl reload nginx

say "logrotate"
cat >/etc/logrotate.d/restpie <<EOF
$LOGDIR/*.log {
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    # Several processes hold app.log open: truncate it in place (LIBRARIES.md, section 8).
    copytruncate
}
EOF

say "build"
as_restpie() { (cd "$APP" && runuser -u restpie -- env HOME="$APP" "$@"); }
as_restpie cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
as_restpie cmake --build build -j"$(nproc)"

say "migrate"
as_restpie env APP_CONFIG="$CONF" build/migrate up

say "systemd units"
install -m 644 "$APP"/systemd/app-*.service /etc/systemd/system/
systemctl daemon-reload
systemctl enable app-server
systemctl reload-or-restart app-server  # a second provisioning reloads gracefully
for name in cron spooler; do
    # cron and spooler come with their own issue: start them once they are built.
    if [ -x "$APP/build/$name" ]; then
        systemctl enable "app-$name"
        systemctl reload-or-restart "app-$name"
    fi
done

wait_until 15 curl -fsS -o /dev/null http://127.0.0.1/api/list ||
    die "no answer from http://127.0.0.1/api/list; see journalctl -u app-server"
say "provisioned: http://$(hostname -f)/api/list answers"
