#!/usr/bin/env bash
# vagrant_validate.sh: `vagrant validate` of the checkout's Vagrantfile, in a temp copy (vagrant
# writes .vagrant/ beside it, and its own state under VAGRANT_HOME: both temp here), once with
# provision's defaults and once with every parameter set. Offline: no box, no plugin, no network.
# --ignore-provider: without it vagrant refuses ("No usable default provider could be found")
# on a machine with neither VirtualBox nor libvirt; it skips only the provider blocks.
# Installs Debian's vagrant package when missing.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# shellcheck source=deploy/lib.sh
source "$SRC/deploy/lib.sh"
ensure_packages vagrant  # the test suite runs as root, and installs what it needs
TMP=$(mktemp -d /tmp/vagrant-validate.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp "$SRC/Vagrantfile" "$TMP/"
export HOME=$TMP/home VAGRANT_HOME=$TMP/vagrant.d VAGRANT_CHECKPOINT_DISABLE=1
unset "${!RESTPIE_@}"  # the Vagrantfile's parameters: none from the caller's environment

check() {  # check WHAT [VAR=VALUE...]
    local what=$1 out
    shift
    if ! out=$(cd "$TMP" && env "$@" vagrant validate --ignore-provider --no-color 2>&1); then
        printf 'FAIL: vagrant validate (%s):\n%s\n' "$what" "$out" >&2
        exit 1
    fi
    grep -q 'validated successfully' <<<"$out" || { printf 'FAIL: %s\n' "$out" >&2; exit 1; }
    echo "ok: vagrant validate, $what"
}
check "provision's defaults"
check "every parameter set" RESTPIE_HTTP_PORT=8081 RESTPIE_HTTPS_PORT=8444 \
    RESTPIE_SERVER_NAME=api.example.test RESTPIE_TLS_CERT=/etc/ssl/certs/x.pem \
    RESTPIE_TLS_KEY=/etc/ssl/private/x.key RESTPIE_METRICS_PORT=9118 RESTPIE_DB_PORT=5433 \
    RESTPIE_REDIS_PORT=6380
