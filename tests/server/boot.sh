# shellcheck shell=bash
# boot.sh: a Debian 12 booted with systemd as PID 1 in a systemd-nspawn container, for the
# booted tests (sourced by tests/server/run.sh and ha.sh, never run). The container shares the
# host's network (apt inside reaches the mirror, and what it serves listens on the host's
# loopback) unless boot_start is given a network namespace (ha.sh: one each, no mirror).
#
#   boot_prepare ROOT    a debootstrap'ed root in ROOT, unpacked from the cache when it has one
#   boot_start ROOT [HOSTNAME [NSPAWN_ARGS...]]   boots it (hostname restpie-test unless given;
#                        e.g. --network-namespace-path=...); sets BOOT_NSPAWN_PID and BOOT_PID (the
#                        container's systemd). Several containers: keep each one's pair.
#   inside CMD...        runs CMD in the container as root (all its namespaces)
#   boot_stop ROOT       powers it off (or kills it), then removes ROOT; safe to call twice
#   step NAME, ok [NOTE], steps_passed TEST FILE   each step printed with its time; the list at
#                        the end, also into FILE (deploy/local.sh test prints it after ctest's
#                        summary: ctest shows a passing test's output only with -V)

BOOT_CACHE=${BOOT_CACHE:-/var/cache/restpie-test}
BOOT_SUITE=bookworm
BOOT_MIRROR=${BOOT_MIRROR:-http://deb.debian.org/debian}
# What the root holds besides minbase; the cache is keyed by this list, the suite and the mirror.
BOOT_INCLUDE=systemd,systemd-sysv,dbus
BOOT_NSPAWN_PID=
BOOT_PID=

boot_packages_host() {
    ensure_packages debootstrap systemd-container zstd openssl
}

boot_prepare() {
    local root=$1 key tarball
    key=$(printf '%s %s %s v1' "$BOOT_SUITE" "$BOOT_INCLUDE" "$BOOT_MIRROR" | sha256sum | cut -c1-12)
    tarball=$BOOT_CACHE/root-$key.tar.zst
    rm -rf --one-file-system "$root"
    mkdir -p "$root"
    if [ -f "$tarball" ]; then
        say "unpacking the cached Debian 12 root ($tarball)"
        tar -C "$root" -I zstd -xpf "$tarball"
        return 0
    fi
    say "debootstrap of a Debian 12 root (once per machine; then cached in $BOOT_CACHE)"
    debootstrap --variant=minbase --include="$BOOT_INCLUDE" "$BOOT_SUITE" "$root" "$BOOT_MIRROR" \
        >"$root.debootstrap.log" 2>&1 || {
        tail -n 30 "$root.debootstrap.log" >&2
        die "debootstrap failed"
    }
    # The same suites as the host (bookworm-security carries the fixed libfcgi).
    cat >"$root/etc/apt/sources.list" <<EOF
deb $BOOT_MIRROR $BOOT_SUITE main
deb $BOOT_MIRROR $BOOT_SUITE-updates main
deb ${BOOT_MIRROR%/debian}/debian-security $BOOT_SUITE-security main
EOF
    rm -f "$root/usr/sbin/policy-rc.d"  # services must start inside
    mkdir -p "$BOOT_CACHE"
    tar -C "$root" -I 'zstd -T0 -3' -cpf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
}

boot_start() {
    local root=$1 name=${2:-restpie-test} tries=150 child
    shift $(($# < 2 ? $# : 2))
    BOOT_PID=
    # A stable machine id and hostname; `hostname -f` must work as on a real server.
    printf '%s\n' "$name" >"$root/etc/hostname"
    # A throwaway system: dpkg need not fsync every file it unpacks (minutes saved per run).
    printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/restpie-test-unsafe-io"
    printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost\n' "$name" >"$root/etc/hosts"
    setsid systemd-nspawn -q -D "$root" -b --register=no --keep-unit --console=read-only \
        --hostname="$name" "$@" </dev/null >"$root.console.log" 2>&1 &
    BOOT_NSPAWN_PID=$!
    # The container's PID 1 is a child of systemd-nspawn named systemd (a transient helper may
    # come first).
    while [ "$tries" -gt 0 ]; do
        is_running "$BOOT_NSPAWN_PID" || die "systemd-nspawn exited; see $root.console.log"
        for child in $(cat /proc/"$BOOT_NSPAWN_PID"/task/*/children 2>/dev/null); do
            if [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ]; then
                BOOT_PID=$child
                break 2
            fi
        done
        sleep 0.2
        tries=$((tries - 1))
    done
    [ -n "$BOOT_PID" ] || die "no systemd in the container after 30 s"
    # Until its manager answers on the bus, systemctl prints nothing: ask again.
    local state= end=$((SECONDS + 90))
    while [ "$SECONDS" -lt "$end" ]; do
        state=$(inside timeout 60 systemctl is-system-running --wait 2>/dev/null) || true
        case $state in running | degraded | maintenance | stopping) break ;; esac
        sleep 0.2
    done
    [ "$state" = running ] || {
        inside systemctl --failed --no-pager >&2 || true
        die "the container's systemd is '$state', not running"
    }
}

inside() {
    nsenter -t "$BOOT_PID" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

boot_stop() {
    local root=$1
    if [ -n "$BOOT_NSPAWN_PID" ] && is_running "$BOOT_NSPAWN_PID"; then
        if [ -n "$BOOT_PID" ] && is_running "$BOOT_PID"; then
            inside systemctl poweroff >/dev/null 2>&1 || true
        fi
        wait_gone "$BOOT_NSPAWN_PID" 30 || stop_pid systemd-nspawn "$BOOT_NSPAWN_PID" TERM 10
    fi
    BOOT_NSPAWN_PID= BOOT_PID=
    [ -d "$root" ] || return 0
    # Nothing may still run in it, or hold a mount under it, before it is removed.
    local p
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
            warn "pid ${p#/proc/} still runs in $root: left in place"
            return 1
        fi
    done
    awk -v r="$root" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$root"
}

BOOT_T0=$SECONDS
BOOT_STEPS=()
step() { STEP=$1 STEP_START=$SECONDS; say "step: $STEP"; }
ok() {
    local line
    line=$(printf '%4d s  %s%s' $((SECONDS - STEP_START)) "$STEP" "${1:+: $1}")
    BOOT_STEPS+=("$line")
    printf '    ok %s\n' "$line" >&2
}
steps_passed() {
    say "$1: passed in $((SECONDS - BOOT_T0)) s"
    printf '    %s\n' "${BOOT_STEPS[@]}" >&2
    {
        printf '%s: passed in %d s\n' "$1" $((SECONDS - BOOT_T0))
        printf '    %s\n' "${BOOT_STEPS[@]}"
    } >"$2"
}
