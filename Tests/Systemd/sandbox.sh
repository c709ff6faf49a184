# Sourced by the systemd tests (integration.sh, package.sh): boots systemd as
# PID 1 of a new pid+mount namespace, pivoted into an overlay of / whose upper
# layer is a tmpfs, with fresh proc, sys, run and tmp: nothing done there
# reaches the host's files, and systemd never runs on the host root. Sets SRC,
# BASE (scratch files), PID1, ROOT (its root, seen from here) and the helpers
# ok, bad, check, finish, inside (a command in the namespace, bounded) and
# journal_has. SUITE names the test in finish's last line. Everything is torn
# down on exit.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# Bounds stretch by FANFILTER_TEST_TIME_SCALE (make test's qemu guests run
# under emulation): BOUND seconds for one command inside, TICKS tenths of a
# second of waiting per 10 s.
SCALE=${FANFILTER_TEST_TIME_SCALE:-1}
BOUND=$((20 * SCALE)) TICKS=$((100 * SCALE))
passed=0 failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; return 1; fi; }
debug_hold() { if [ -n "${HOLD:-}" ]; then echo "holding: PID1=$PID1"; sleep "$HOLD"; fi; }
finish() { debug_hold; echo "$SUITE: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 2; }
[ -x /lib/systemd/systemd ] || { echo "needs systemd installed"; exit 2; }

BASE=$(mktemp -d /tmp/fanfilter-systemd.XXXXXX)
BOOTLOG=$BASE.boot-log
PID1=

cleanup() {
    if [ -n "$PID1" ] && kill -0 "$PID1" 2>/dev/null; then
        kill -s SIGRTMIN+4 "$PID1" 2>/dev/null   # poweroff
        for _ in $(seq 50); do kill -0 "$PID1" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$PID1" 2>/dev/null              # the namespace dies with its PID 1
    fi
    [ -n "${UNSHARE:-}" ] && wait "$UNSHARE" 2>/dev/null
    rm -rf "$BASE" "$BASE".*
}
trap cleanup EXIT

# The namespace's side: mounts, then exec systemd. Its mounts vanish with it.
cat > "$BASE.boot" <<BOOT
set -e
mount -t tmpfs -o size=4g,mode=0755 tmpfs "$BASE"
mkdir -p "$BASE/upper" "$BASE/work" "$BASE/root"
mount -t overlay overlay -o lowerdir=/,upperdir=$BASE/upper,workdir=$BASE/work "$BASE/root"
R=$BASE/root
mount -t proc proc "\$R/proc"
mount -t sysfs sysfs "\$R/sys"
mount --rbind /sys/fs/cgroup "\$R/sys/fs/cgroup"
mount --rbind /dev "\$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "\$R/run"
mount -t tmpfs -o mode=1777 tmpfs "\$R/tmp"
mkdir -p "\$R/etc/systemd/system"
printf '[Unit]\nDescription=fanfilter integration test\nRequires=systemd-journald.socket\nAfter=systemd-journald.socket\n' \
    > "\$R/etc/systemd/system/fanfilter-test.target"
rm -f "\$R/etc/machine-id"; : > "\$R/etc/machine-id"
export container=fanfilter-test
# pivot_root, not chroot: the overlay becomes the namespace's root, so paths
# read from /proc in a service's own mount namespace are the container's.
cd "\$R"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
exec /lib/systemd/systemd --unit=fanfilter-test.target
BOOT
unshare --pid --mount --fork --propagation private bash "$BASE.boot" > "$BOOTLOG" 2>&1 &
UNSHARE=$!
for _ in $(seq $TICKS); do
    PID1=$(pgrep -P "$UNSHARE" -f "lib/systemd/systemd" | head -1)
    [ -n "$PID1" ] && break
    sleep 0.1
done
[ -n "$PID1" ] || { cat "$BOOTLOG"; bad "systemd booted in the namespace"; finish; }
ROOT=/proc/$PID1/root

inside() { timeout $BOUND nsenter -t "$PID1" -m -p -r -w "$@"; }
# The agent logs through a queue of its own: an entry reaches the journal a moment after
# what it tells of. Waits (at most 10 s) until entries with MESSAGE_ID=$1 hold the text $2.
journal_has() {
    for _ in $(seq $TICKS); do
        inside journalctl -u fanfilter --no-pager MESSAGE_ID="$1" | grep -q -- "$2" && return 0
        sleep 0.1
    done
    return 1
}
for _ in $(seq $TICKS); do
    state=$(inside systemctl is-system-running 2>/dev/null)
    case "$state" in running|degraded) break ;; esac
    sleep 0.2
done
check "systemd runs as PID 1 of the namespace (state: $state)" test "$state" = running -o "$state" = degraded
