#!/usr/bin/env bash
# release.sh: the releases of a server made by deploy/provision.sh; as root, on that server.
# provision.sh and deploy.sh (over ssh) run it; an operator runs `status` and `rollback`.
#
#   release.sh deploy SRC [--commit C] [--who W] [--dirty]
#       builds SRC into a new release and switches to it: the production targets only, in a
#       build tree kept between deploys (/var/cache/restpie/build: an incremental build), then
#       the new binary's --check, the migrations, the atomic switch of /opt/restpie/current, a
#       graceful reload of the server and the spooler and of cron, and a wait until the server
#       runs the new build. A failed build, check or migration leaves the old release serving and
#       `current` untouched; the same source again reuses its release.
#   release.sh rollback     back to the release before the current one (no migration is undone)
#   release.sh status       the release that runs, and those kept, with who deployed what
#
# One at a time: a second run waits for the lock (up to 10 minutes), then goes on.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=deploy/lib.sh
source "$HERE/lib.sh"

OPT=/opt/restpie
CONF=/etc/restpie/server-config.json
CACHE=/var/cache/restpie
KEEP=${RESTPIE_KEEP_RELEASES:-5}

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

# timed NAME CMD...: runs CMD and prints how long it took.
timed() {
    local name=$1 start
    shift
    start=$(date +%s%N)
    "$@"
    say "$name: $((($(date +%s%N) - start) / 1000000)) ms"
}

lock() {
    mkdir -p /run/lock
    exec 9>/run/lock/restpie-release.lock
    if ! flock -n 9; then
        say "another deploy runs; waiting for it (up to 10 minutes)"
        flock -w 600 9 || die "the other deploy still runs after 10 minutes"
    fi
}

current_id() { basename "$(readlink -f "$OPT/current" 2>/dev/null || echo none)"; }
# complete releases, newest first
releases() {
    local d
    for d in $(find "$OPT/releases" -mindepth 1 -maxdepth 1 -type d -name '*-*' | sort -r); do
        [ -f "$d/RELEASE" ] && basename "$d"
    done
    return 0
}

# build SRC COMMIT: the release of SRC in RELEASE (new or reused).
build() {
    local src=$1 commit=$2 digest rel d
    mkdir -p "$CACHE/src" "$CACHE/build"
    # The build tree's own copy: rsync keeps the times of unchanged files, so make rebuilds only
    # what changed.
    rsync -a --delete --exclude=/.git/ --exclude='/build*/' --exclude=/var/ --exclude=/RESTART \
        --exclude=/conf/server-config.local.json --chown=root:root --chmod=Dgo-w,Fgo-w \
        "$src"/ "$CACHE/src"/
    digest=$(cd "$CACHE/src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
        sha256sum | cut -c1-10)
    for d in $(releases); do
        if [ "${d##*-}" = "$digest" ] || [ "$(cat "$OPT/releases/$d/DIGEST" 2>/dev/null)" = "$digest" ]; then
            RELEASE=$d
            say "release $RELEASE has this source already: reused"
            return 0
        fi
    done
    RELEASE=$(date -u +%Y%m%dT%H%M%SZ)-${commit:-$digest}
    rel=$OPT/releases/$RELEASE
    say "building release $RELEASE"
    cmake -S "$CACHE/src" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DAPP_TESTS=OFF \
        -DAPP_BUILD_ID="$RELEASE" >"$CACHE/build.log" 2>&1 &&
        cmake --build "$CACHE/build" -j"$(nproc)" --target server spooler cron migrate admin \
            >>"$CACHE/build.log" 2>&1 || {
        tail -n 40 "$CACHE/build.log" >&2
        die "the build failed (log: $CACHE/build.log); the release that runs is unchanged"
    }
    rm -rf "$rel"
    # Unchanged files are hard links to the running release's: a release costs what changed.
    rsync -a --link-dest="$OPT/current/" "$CACHE/src"/ "$rel"/
    install -d "$rel/build"
    install -m 755 "$CACHE"/build/{server,spooler,cron,migrate,admin} "$rel/build/"
    printf '%s\n' "$digest" >"$rel/DIGEST"
}

# check REL: the new server, spooler and cron load the config and their routes, tasks and jobs.
check() {
    local rel=$OPT/releases/$1 b out
    for b in server spooler cron; do
        out=$(runuser -u restpie -- env APP_TEMPLATE_DIR="$rel/app/templates" \
            "$rel/build/$b" --config "$CONF" --check 2>&1) ||
            die "$b of $1 fails its check: $out; the release that runs is unchanged"
    done
}

migrate() {
    local rel=$OPT/releases/$1
    runuser -u restpie -- env APP_MIGRATIONS_DIR="$rel/migrations" "$rel/build/migrate" \
        --config "$CONF" up || die "the migrations of $1 failed; the release that runs is unchanged"
}

point_current() {
    ln -sfn "releases/$1" "$OPT/current.tmp"
    mv -T "$OPT/current.tmp" "$OPT/current"
}

# switch ID: current -> ID, the services reloaded into it (started when they were not running);
# back to the old release when the server does not take it.
switch() {
    local new=$1 old unit
    old=$(current_id)
    point_current "$new"
    for unit in app-server app-spooler app-cron; do
        systemctl is-enabled -q "$unit" 2>/dev/null || continue
        systemctl reload-or-restart "$unit" && continue
        # A cron from before graceful reloads has no stats socket for --reload: restart it (its
        # check above passed). Once per server.
        if [ "$unit" = app-cron ] && systemctl restart app-cron; then
            warn "app-cron could not reload (a cron from before graceful reloads?): restarted"
            continue
        fi
        [ "$old" = none ] || point_current "$old"
        die "$unit did not take $new (journalctl -u $unit); current is $old again"
    done
    local running
    running=$(/opt/restpie/current/build/server --config "$CONF" --stats 2>/dev/null |
        sed -n 's/.*"build":"\([^"]*\)".*/\1/p')
    [ -z "$running" ] || [ "$running" = "$new" ] || die "the server runs build $running, not $new"
}

prune() {
    local kept=0 d cur
    cur=$(current_id)
    for d in $(find "$OPT/releases" -mindepth 1 -maxdepth 1 -type d -name '*-*' | sort -r); do
        [ "$(basename "$d")" = "$cur" ] && continue
        if [ -f "$d/RELEASE" ] && [ "$kept" -lt $((KEEP - 1)) ]; then
            kept=$((kept + 1))
        else
            rm -rf "$d"
        fi
    done
}

cmd_deploy() {
    local src= commit= who=${SUDO_USER:-root}@$(hostname) dirty=
    while [ $# -gt 0 ]; do
        case $1 in
            --commit) commit=${2:?}; shift ;;
            --who) who=${2:?}; shift ;;
            --dirty) dirty=-dirty ;;
            -*) usage ;;
            *) src=$1 ;;
        esac
        shift
    done
    [ -d "$src" ] || usage
    [[ $commit =~ ^[0-9a-f]{0,40}$ ]] || die "not a commit: $commit"
    lock
    local start=$SECONDS
    timed "build" build "$src" "${commit:0:12}$dirty"
    local rel=$OPT/releases/$RELEASE
    if [ ! -f "$rel/RELEASE" ]; then
        timed "check" check "$RELEASE"
        printf 'release=%s\ncommit=%s\ndirty=%s\nby=%s\ntime=%s\n' "$RELEASE" "${commit:-unknown}" \
            "${dirty:+yes}" "$who" "$(date -u +%FT%TZ)" >"$rel/DEPLOYED"
        printf '%s\n' "$RELEASE" >"$rel/RELEASE"  # last: marks the release complete
    fi
    timed "migrate" migrate "$RELEASE"
    timed "switch and reload" switch "$RELEASE"
    prune
    say "release $RELEASE runs (deploy took $((SECONDS - start)) s)"
}

cmd_rollback() {
    lock
    local cur prev
    cur=$(current_id)
    prev=$(releases | awk -v c="$cur" 'found { print; exit } $0 == c { found = 1 }')
    [ -n "$prev" ] || die "no release before $cur to roll back to"
    say "rolling back from $cur to $prev (its migrations stay: see README 'Migrations')"
    timed "switch and reload" switch "$prev"
}

cmd_status() {
    local cur d
    cur=$(current_id)
    for d in $(releases); do
        printf '%s %s  %s\n' "$([ "$d" = "$cur" ] && echo '*' || echo ' ')" "$d" \
            "$(tr '\n' ' ' <"$OPT/releases/$d/DEPLOYED" 2>/dev/null | sed 's/release=[^ ]* //')"
    done
}

is_root || die "run me as root"
case ${1:-} in
    deploy) shift; cmd_deploy "$@" ;;
    rollback) cmd_rollback ;;
    status) cmd_status ;;
    *) usage ;;
esac
