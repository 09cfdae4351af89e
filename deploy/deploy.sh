#!/usr/bin/env bash
# deploy.sh: ships this checkout to a server made by deploy/provision.sh and switches to it, with
# no request refused; or rolls back; or tells what runs there.
#
#   deploy/deploy.sh [user@]HOST               deploy this checkout (committed or not: a dirty
#                                              tree is recorded as such)
#   deploy/deploy.sh --rollback [user@]HOST    back to the release before, in seconds
#   deploy/deploy.sh --status [user@]HOST      the releases there: which runs, who deployed them
#
# As root@HOST, or a user with passwordless sudo there. Needs ssh and rsync 3.1+ here and there.
# $DEPLOY_SSH is the ssh command (default `ssh`), e.g. "ssh -p 2222 -i ~/.ssh/deploy_key".
# rsync sends the changed files into /var/lib/restpie-src on the host; there deploy/release.sh
# builds them incrementally into a new release, checks and migrates it, switches to it and
# reloads the services, and prints the time of each step (README "Deploying").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$ROOT/deploy/lib.sh"

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

action=deploy
case ${1:-} in
    --rollback) action=rollback; shift ;;
    --status) action=status; shift ;;
    -*) usage ;;
esac
[ $# -eq 1 ] || usage
HOST=$1
SSH=${DEPLOY_SSH:-ssh}
SUDO=sudo
[[ $HOST == root@* ]] && SUDO=
STAGE=/var/lib/restpie-src
START=$SECONDS

# on_host CMD: runs the shell command CMD on the host, as root.
on_host() {
    # shellcheck disable=SC2086  # $SSH is a command with its options
    $SSH "$HOST" "$SUDO bash -c $(printf '%q' "$1")"
}

case $action in
    rollback) on_host "bash /opt/restpie/current/deploy/release.sh rollback"; exit ;;
    status) on_host "bash /opt/restpie/current/deploy/release.sh status"; exit ;;
esac

commit= dirty=
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    commit=$(git -C "$ROOT" rev-parse --short=12 HEAD)
    [ -z "$(git -C "$ROOT" status --porcelain)" ] || dirty=--dirty
fi
who=$(git -C "$ROOT" config user.email 2>/dev/null || true)
who=${who:-${USER:-$(id -un)}@$(hostname)}
who=${who//[^A-Za-z0-9@._+-]/_}

say "sending changed files to $HOST:$STAGE"
# Under a lock on the host: two deploys at once would each delete the other's temporary files.
rsync -az --delete -e "$SSH" --rsync-path="$SUDO mkdir -p $STAGE && $SUDO flock $STAGE.lock rsync" \
    --exclude=/.git/ --exclude='/build*/' --exclude=/var/ --exclude=/RESTART \
    --exclude=/conf/server-config.local.json "$ROOT"/ "$HOST:$STAGE"/
say "sent in $((SECONDS - START)) s"

on_host "bash $STAGE/deploy/release.sh deploy $STAGE ${commit:+--commit $commit} --who $who $dirty"
say "deployed to $HOST in $((SECONDS - START)) s"
