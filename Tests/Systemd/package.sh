#!/usr/bin/env bash
# The Debian package under a real systemd (the sandbox of sandbox.sh): dpkg -i
# enables the service and starts nothing; it starts; fanfilter status answers;
# a purge removes what the package added, the default policy with it; an
# administrator's policy survives a purge.
#
#   package.sh FANFILTER_DEB
#
# Prints one line per check and ends with "debian-package: N passed, M failed".
set -u
DEB=$(readlink -f "$1")
SUITE=debian-package
. "$(dirname "$0")/sandbox.sh"

# A build machine's policy-rc.d (which forbids starting or stopping services while
# packages install) is the host's, seen through the overlay: not this machine's.
rm -f "$ROOT/usr/sbin/policy-rc.d"
cp "$DEB" "$ROOT/tmp/fanfilter.deb"
# The postinst builds the trust database from dpkg's records of 100,000 files:
# ten minutes and more under emulation, where each stat crosses 9p (on 5.10's
# 9p, beside another guest, more than the 20 minutes this bound once gave).
timeout $((30 * BOUND)) nsenter -t "$PID1" -m -p -r -w dpkg -i /tmp/fanfilter.deb > "$BASE.install" 2>&1
check "dpkg -i installs the package" grep -q "Setting up fanfilter" "$BASE.install"
check "the postinst says to review the policy before starting" grep -q "enabled, not started: review /etc/fanfilter/policy" "$BASE.install" ||
    sed 's/^/    dpkg: /' "$BASE.install"
check "the service is enabled" test "$(inside systemctl is-enabled fanfilter)" = enabled
check "and not started" test "$(inside systemctl is-active fanfilter)" = inactive
check "the default policy is in /etc/fanfilter/policy" cmp -s "$SRC/systemd/fanfilter.policy" "$ROOT/etc/fanfilter/policy"
check "man fanfilter-port finds the page" inside sh -c 'MANWIDTH=80 man fanfilter-port | grep -q "SOCK_SEQPACKET"'
inside mkdir -p /srv/watched
inside mount -t tmpfs tmpfs /srv/watched
inside sh -c 'echo secret > /srv/watched/secret'
cat > "$ROOT/etc/fanfilter/policy.d/test.policy" <<'P'
watch = /srv/watched
deny perm=open all : path=/srv/watched/secret
P
chmod 0644 "$ROOT/etc/fanfilter/policy.d/test.policy"
inside systemctl start fanfilter
check "systemctl start fanfilter: active" test "$(inside systemctl is-active fanfilter)" = active
inside cat /srv/watched/secret > /dev/null 2> "$BASE.err"
check "a policy.d rule denies (EPERM)" grep -q "Operation not permitted" "$BASE.err"
inside /usr/sbin/fanfilter status > "$BASE.status" 2>&1
check "fanfilter status answers through /run/fanfilter/port" grep -q "^policy: /etc/fanfilter/policy$" "$BASE.status"

# A purge with the default policy: everything goes but the administrator's policy.d file.
inside dpkg --purge fanfilter > "$BASE.purge" 2>&1
check "dpkg --purge stops it and removes it" test "$(inside systemctl is-active fanfilter)" = inactive -a ! -e "$ROOT/usr/sbin/fanfilter"
check "the purge removed the default policy" test ! -e "$ROOT/etc/fanfilter/policy"
check "and kept the administrator's policy.d file" test -f "$ROOT/etc/fanfilter/policy.d/test.policy"
check "the service is gone" bash -c "nsenter -t $PID1 -m -p -r -w systemctl cat fanfilter 2>&1 | grep -q 'No files found for fanfilter'"

# An administrator's own policy survives a purge.
rm -f "$ROOT/etc/fanfilter/policy.d/test.policy"
inside dpkg -i /tmp/fanfilter.deb > /dev/null 2>&1
printf 'watch = /srv/watched\n# the administrator was here\n' >> "$ROOT/etc/fanfilter/policy"
inside dpkg --purge fanfilter > "$BASE.purge2" 2>&1
check "a purge keeps a policy the administrator changed" grep -q "the administrator was here" "$ROOT/etc/fanfilter/policy"
check "and says so" grep -q "keeping /etc/fanfilter/policy" "$BASE.purge2"
finish
