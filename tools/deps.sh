#!/usr/bin/env bash
# The system packages fanfilter needs, found or installed.
#
#   tools/deps.sh build|test|deb [--dry-run]
#
# `build` is what `make build` and `make run` need; `test` adds what the test
# suite needs; `deb` what `make deb` needs (debhelper, and lintian to check). Each missing package is named with why it is needed. As root on
# a machine with apt-get, the missing ones are installed (non-interactive, one
# line saying what and why first); otherwise the script names them and exits 1.
# --dry-run prints the apt-get command it would run and installs nothing.
#
# Exit status: 0 nothing missing (or installed now), 1 missing and not
# installed, 2 usage.
set -u

usage() { echo "usage: tools/deps.sh build|test|deb [--dry-run]" >&2; exit 2; }
[ $# -ge 1 ] || usage
purpose=$1; shift
case "$purpose" in build|test|deb) ;; *) usage ;; esac
dry_run=no
for arg in "$@"; do
    case "$arg" in --dry-run) dry_run=yes ;; *) usage ;; esac
done
apt_get=${APT_GET:-apt-get}     # the tests point this elsewhere to simulate a machine without apt-get

missing=()   # Debian package names
reasons=()   # why each is needed, same order

need() {     # need PACKAGE WHY: record a missing package once
    local p
    for p in "${missing[@]+"${missing[@]}"}"; do [ "$p" = "$1" ] && return; done
    missing+=("$1"); reasons+=("$2")
}
has() { command -v "$1" >/dev/null 2>&1; }
has_library() {  # a shared library the dynamic loader can find
    local ldconfig
    ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
    "$ldconfig" -p 2>/dev/null | grep -q "$1"
}

has pkg-config || need pkg-config "finds libsystemd for the build"
if has pkg-config; then
    pkg-config --exists libsystemd || need libsystemd-dev "the journal and sd_notify, for the build"
else
    need libsystemd-dev "the journal and sd_notify, for the build"
fi
if has pkg-config; then
    pkg-config --exists lmdb || need liblmdb-dev "LMDB, the trust database, for the build"
    pkg-config --exists libmagic || need libmagic-dev "libmagic, file types for ftype=, for the build"
else
    need liblmdb-dev "LMDB, the trust database, for the build"
    need libmagic-dev "libmagic, file types for ftype=, for the build"
fi
if [ "$purpose" = test ] || [ "$purpose" = deb ]; then
    has dh && has dpkg-buildpackage || need debhelper "builds the Debian package (make deb, and its install test)"
fi
if [ "$purpose" = deb ]; then
    has lintian || need lintian "checks the Debian package make deb builds"
fi
if [ "$purpose" = test ]; then
    has unshare && has setpriv || need util-linux "unshare and setpriv: private mounts and other users in the kernel tests"
    has_library 'libcrypto\.so' || need libssl-dev "libcrypto: the sha256hash tests"
    [ -x "${SYSTEMD_BINARY:-/lib/systemd/systemd}" ] && has journalctl || need systemd "the integration test boots systemd in a namespace"
    has python3 || need python3 "the integration test reads the journal's JSON"
    has man || need man-db "man(1): the man page test renders each page and reads groff's warnings"
    [ -f /usr/lib/python3/dist-packages/fusepy.py ] || need python3-fusepy "a FUSE server that stalls, for the hostile-user test of the executable's stat"
    has prometheus-node-exporter || need prometheus-node-exporter "node_exporter reads the metrics file in the metrics test (its service is never started or enabled)"
    [ -d /usr/lib/python3/dist-packages/prometheus_client ] || need python3-prometheus-client "Prometheus' own parser reads the metrics file"
    has curl || need curl "scrapes node_exporter in the metrics test"
    [ -d /usr/share/fapolicyd/sample-rules ] || need fapolicyd "fapolicyd's own rule files must pass fanfilter check, and its decisions are compared with fanfilter's (its service is never started or enabled)"
    has fsverity || need fsverity "enables fs-verity on a file of the verity test's ext4 image"
    has mkfs.ext4 || need e2fsprogs "mkfs.ext4 -O verity makes the verity test's image"
    has qemu-system-x86_64 || need qemu-system-x86 "boots Debian's kernels (5.10, 6.1, 6.12; 6.1's has fs-verity) for the kernel and verity tests (tools/kernel-vm.sh)"
    [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need busybox-static "the kernel tests' virtual machines start from a static busybox"
    has depmod || need kmod "lists the modules the kernel tests' virtual machines load"
    has xz || need xz-utils "unpacks Debian 13's compressed kernel modules for its virtual machine"
    has auditd && has ausearch || need auditd "the audit test runs auditd in make test's virtual machines and reads the agent's FANOTIFY records back with ausearch (its service is never started or enabled)"
    [ -x /usr/sbin/clamd ] || need clamav-daemon "a real clamd behind the port in the Examples/clamd test (its services are never started or enabled; no signatures are downloaded)"
fi

[ ${#missing[@]} -eq 0 ] && exit 0

list="${missing[*]}"
command_line="$apt_get update -q && DEBIAN_FRONTEND=noninteractive $apt_get install -y -q --no-install-recommends $list"
why=""
for i in "${!missing[@]}"; do why="$why${why:+; }${missing[$i]} (${reasons[$i]})"; done

if [ "$dry_run" = yes ]; then
    echo "fanfilter: missing for make $purpose: $why"
    echo "would run: $command_line"
    exit 0
fi
if ! has "$apt_get"; then
    echo "fanfilter: missing for make $purpose: $why" >&2
    echo "fanfilter: no apt-get on this machine: install these with its package manager ($list), then run make again" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "fanfilter: missing for make $purpose: $why" >&2
    echo "fanfilter: run make as root to have them installed, or install them yourself: sudo $apt_get install -y $list" >&2
    exit 1
fi
echo "fanfilter: installing with apt-get, for make $purpose: $why"
"$apt_get" update -q >/dev/null || { echo "fanfilter: apt-get update failed; install by hand: $list" >&2; exit 1; }
# A package that ships a service (node_exporter) is installed for the tests only: while
# apt-get runs, policy-rc.d forbids starting any service, and the service is disabled after.
guard=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# fanfilter tools/deps.sh: no service starts while it installs test packages\nexit 101\n' > "$guard"
    chmod 0755 "$guard"
fi
DEBIAN_FRONTEND=noninteractive "$apt_get" install -y -q --no-install-recommends "${missing[@]}"
status=$?
[ -n "$guard" ] && rm -f "$guard"
[ "$status" -eq 0 ] || { echo "fanfilter: apt-get install failed: $list" >&2; exit 1; }
for p in "${missing[@]}"; do
    [ -d /run/systemd/system ] || continue
    case "$p" in
    prometheus-node-exporter) services="prometheus-node-exporter" ;;
    clamav-daemon) services="clamav-daemon.socket clamav-daemon clamav-freshclam" ;;
    fapolicyd) services="fapolicyd" ;;
    auditd) services="auditd" ;;
    *) continue ;;
    esac
    systemctl disable --now $services >/dev/null 2>&1 || true
    echo "fanfilter: $p is installed for the tests, its services disabled ($services)"
done
