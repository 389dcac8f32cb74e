#!/bin/sh
# Installs the Debian packages whose daemons the adapter tests start as real peers:
# sshd (openssh-server), Prometheus and Alertmanager. Idempotent and quiet; needs
# root when something is missing. Run by jarvis-adapters/tests/support/peers.rs.
set -eu

missing() {
    need=""
    [ -x /usr/sbin/sshd ] || need="$need openssh-server"
    [ -x /usr/bin/prometheus ] || need="$need prometheus"
    [ -x /usr/bin/prometheus-alertmanager ] || need="$need prometheus-alertmanager"
    echo "$need"
}

[ -z "$(missing)" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "test-peers: root is needed to install:$(missing)" >&2
    exit 1
fi

# Several test binaries may call this at once: one installs, the others wait.
exec 9>/tmp/jarvis-test-peers.lock
flock 9
need=$(missing)
[ -z "$need" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
apt_opts="-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0"
# shellcheck disable=SC2086
apt-get $apt_opts update -qq >/dev/null
# shellcheck disable=SC2086
apt-get $apt_opts install -y -qq --no-install-recommends $need >/dev/null

need=$(missing)
if [ -n "$need" ]; then
    echo "test-peers: still missing after apt-get install:$need" >&2
    exit 1
fi
