#!/usr/bin/env bash
# deploy.sh: ships this checkout to a server made by deploy/provision.sh and switches to it.
#
#   deploy/deploy.sh [user@]HOST [PROVISION_OPTIONS]   as root@HOST, or a user with passwordless sudo
#
# rsync sends the changed files into /var/lib/restpie-src on the host (a staging copy, root's);
# there deploy/provision.sh builds a new release under /opt/restpie/releases (when the source
# changed), migrates, switches /opt/restpie/current and reloads the server and the spooler
# gracefully (`systemctl reload` fails, and the old release serves on, when the new one fails its
# check). The config, the data, the spool and the nginx site are left alone. PROVISION_OPTIONS:
# the ports the server was provisioned with, when not the defaults.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"

[ $# -ge 1 ] || die "usage: deploy/deploy.sh [user@]HOST [PROVISION_OPTIONS]"
HOST=$1
shift
SUDO=sudo
[[ $HOST == root@* ]] && SUDO=
STAGE=/var/lib/restpie-src

say "sending changed files to $HOST:$STAGE"
rsync -az --delete --rsync-path="$SUDO mkdir -p $STAGE && $SUDO rsync" \
    --exclude=/.git/ --exclude='/build*/' --exclude=/var/ --exclude=/RESTART \
    --exclude=/conf/server-config.local.json "$ROOT"/ "$HOST:$STAGE"/

say "build, migrate, switch, reload on $HOST"
# shellcheck disable=SC2029  # $SUDO and the options are meant to expand here
ssh "$HOST" "$SUDO bash $STAGE/deploy/provision.sh $(printf '%q ' "$@") $STAGE"
say "deployed to $HOST"
