# shellcheck shell=bash
# netns.sh: the network namespaces of the cluster test and the booted HA test (tests/server/ha.sh),
# sourced, never run. Hosts on one bridge, each in a namespace PREFIX<host> with the address
# ${IP[host]}/24, which exists only there. PREFIX and IP (an associative array) are the caller's.

# kill_all NS: SIGKILL to every process in NS, again until none is left (one may have forked
# between the listing and the kill).
kill_all() {
    local ns=$1 pids i
    for ((i = 0; i < 50; i++)); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -z "$pids" ] && return 0
        # shellcheck disable=SC2086  # a list of pids
        kill -s KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    warn "processes still in $ns: $pids"
}

# ns_remove NS: every process in NS killed, then NS deleted.
ns_remove() {
    kill_all "$1"
    ip netns del "$1" 2>/dev/null || warn "cannot delete namespace $1"
}

# ns_remove_all: every PREFIX* namespace removed (what this run, or an interrupted one, made).
ns_remove_all() {
    local ns
    for ns in $(ip netns list | awk '{ print $1 }' | grep "^$PREFIX" || true); do
        ns_remove "$ns"
    done
}

# net_up HOST...: PREFIXnet with the bridge br0, and a namespace for each HOST, its eth0 a veth
# to the bridge.
net_up() {
    ip netns add "${PREFIX}net"
    ip -n "${PREFIX}net" link set lo up
    ip -n "${PREFIX}net" link add br0 type bridge
    ip -n "${PREFIX}net" link set br0 up
    local h
    for h in "$@"; do
        ip netns add "$PREFIX$h"
        ip -n "$PREFIX$h" link set lo up
        # Both ends made in their namespaces: no interface of ours ever appears outside them.
        ip link add "v-$h" netns "${PREFIX}net" type veth peer name eth0 netns "$PREFIX$h"
        ip -n "${PREFIX}net" link set "v-$h" master br0 up
        ip -n "$PREFIX$h" addr add "${IP[$h]}/24" dev eth0
        ip -n "$PREFIX$h" link set eth0 up
    done
}

# link HOST up|down: HOST's link to the bridge.
link() { ip -n "${PREFIX}net" link set "v-$1" "$2"; }

# power_off HOST: its link down first, then SIGKILL to its processes: a machine that loses power or
# the network, whose connections end with no reset or close ever reaching the others (they must
# find out by their own timeouts: the app's db_dead_host_s and redis_timeout_ms).
power_off() {
    link "$1" down
    kill_all "$PREFIX$1"
}
