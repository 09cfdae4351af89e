#!/usr/bin/env bash
# deploy.sh: ships this checkout to a server made by deploy/provision.sh and switches to it in
# seconds, with no request refused.
#
#   deploy/deploy.sh [user@]HOST      as root@HOST, or as a user with passwordless sudo there
#
# rsync sends only the files that changed (and deletes the removed ones) into /opt/restpie; on
# the host: incremental build, migrate, graceful reload of the server and the spooler, restart of
# cron. /etc/restpie (the real config, with the secrets) is never touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"

[ $# -eq 1 ] || die "usage: deploy/deploy.sh [user@]HOST"
HOST=$1
SUDO=sudo
[[ $HOST == root@* ]] && SUDO=

say "sending changed files to $HOST:/opt/restpie"
rsync -az --delete --itemize-changes --rsync-path="$SUDO rsync" --chown=restpie:restpie \
    --exclude=/.git/ --exclude=/build/ --exclude=/var/ --exclude=/RESTART \
    --exclude=/conf/server-config.local.json \
    "$ROOT"/ "$HOST":/opt/restpie/

say "build, migrate, reload on $HOST"
# shellcheck disable=SC2029  # $SUDO is meant to expand here
ssh "$HOST" "$SUDO bash -s" <<'EOF'
set -euo pipefail
cd /opt/restpie
as_restpie() { runuser -u restpie -- env HOME=/opt/restpie "$@"; }
as_restpie cmake --build build -j"$(nproc)"
as_restpie env APP_CONFIG=/etc/restpie/server-config.json build/migrate up
install -m 644 systemd/app-*.service /etc/systemd/system/
systemctl daemon-reload
# HUP: the workers finish their request and the master re-executes the new binary.
systemctl reload-or-restart app-server
# cron and spooler come with their own issue: run them once they are built.
if [ -x build/spooler ]; then
    systemctl enable -q app-spooler
    systemctl reload-or-restart app-spooler  # a task cut short stays on disk and runs again
fi
if [ -x build/cron ]; then
    systemctl enable -q app-cron
    systemctl restart app-cron
fi
systemctl is-active app-server
EOF
say "deployed to $HOST"
