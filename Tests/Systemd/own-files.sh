#!/usr/bin/env bash
# The agent watching the filesystems that hold its own binary, policy, trust
# database and the journal, under load while journald rotates and restarts
# (the self-deadlock fapolicyd fixed in 2.0: the agent waiting on journald
# while journald waits on the agent's answer for its own open). Runs in
# sandbox.sh's namespace, whose root is an overlay made for the test: the
# `watch = /` below marks that overlay, which no process outside the
# namespace uses, and `watch = /run` its own tmpfs.
#
#   own-files.sh FANFILTER_BINARY [ROUNDS]
#
# Prints one line per check, a `stress:` line with the counts, and ends with
# "own-files: N passed, M failed".
set -u
BINARY=$(readlink -f "$1")
ROUNDS=${2:-300}
SUITE=own-files
. "$(dirname "$0")/sandbox.sh"

make -s -C "$SRC" install DESTDIR="$ROOT" BINARY="$BINARY" > /dev/null
mkdir -p "$ROOT/srv/denied" "$ROOT/etc/systemd/journald.conf.d"
echo open > "$ROOT/srv/open"; echo secret > "$ROOT/srv/denied/secret"
# journald keeps its files in /run and starts a new one every 256 KiB.
printf '[Journal]\nStorage=volatile\nRuntimeMaxFileSize=256K\nRuntimeMaxUse=8M\nRateLimitBurst=0\n' \
    > "$ROOT/etc/systemd/journald.conf.d/rotate.conf"
cat > "$ROOT/etc/fanfilter/policy" <<'P'
watch = /
watch = /run
log_rate = 100000
deny_log perm=open all : dir=/srv/denied/
allow_log perm=execute all : trust=1
allow_log perm=any all : all
P
chmod 0644 "$ROOT/etc/fanfilter/policy"
inside systemctl restart systemd-journald
# From dpkg's records of 100,000 files: minutes under emulation, where each stat crosses 9p
# (as long as the package test's, see package.sh).
timeout $((30 * BOUND)) nsenter -t "$PID1" -m -p -r -w /usr/local/sbin/fanfilter trust update > "$BASE.trust" 2>&1
check "the trust database is built in the watched root" test -s "$ROOT/var/lib/fanfilter/trust.mdb/data.mdb" -o -s "$ROOT/var/lib/fanfilter/trust.mdb"
inside systemctl daemon-reload
inside systemctl start fanfilter
check "the agent starts watching its own files' filesystems" test "$(inside systemctl is-active fanfilter)" = active
status=$(inside systemctl show -p StatusText --value fanfilter)
check "STATUS= says it watches both ($status)" grep -q "watching 2 filesystems" <<< "$status"

# Four loads: an allowed and a denied open and a journal entry per round.
loads=()
for n in 1 2 3 4; do
    inside sh -c "for i in \$(seq $ROUNDS); do cat /srv/open > /dev/null; cat /srv/denied/secret > /dev/null 2>&1; logger -t load$n \"entry \$i\"; done" &
    loads+=($!)
done
# While they run, journald rotates its files every half second and is
# restarted every fifth time (its binary executed from the watched root),
# and the agent reloads its policy from it every third.
rotations=0 restarts=0 reloads=0 running=1
for _ in $(seq $((12 * TICKS / 5))); do
    running=0
    for p in "${loads[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
    [ $running = 0 ] && break
    inside journalctl --rotate > /dev/null 2>&1 && rotations=$((rotations + 1))
    if [ $((rotations % 5)) = 0 ]; then inside systemctl restart systemd-journald && restarts=$((restarts + 1)); fi
    if [ $((rotations % 3)) = 0 ]; then inside systemctl reload fanfilter && reloads=$((reloads + 1)); fi
    sleep 0.5
done
check "every load finished: no self-deadlock ($rotations rotations, $restarts journald restarts, $reloads reloads)" test $running = 0
check "journald rotated and restarted, and the policy reloaded, while the loads ran" test $restarts -gt 0 -a $reloads -gt 0
kill -9 "${loads[@]}" 2>/dev/null
check "journald still answers" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w journalctl -n 1 --no-pager > /dev/null"
check "fanfilter status answers" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w /usr/local/sbin/fanfilter status > /dev/null"
check "the agent still denies" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w cat /srv/denied/secret 2>&1 | grep -q 'Operation not permitted'"
rotated=$(find "$ROOT/run/log/journal" -name '*@*.journal*' 2>/dev/null | wc -l)
check "journald rotated its files ($rotated rotated)" test "$rotated" -gt 0
inside systemctl restart fanfilter
check "the agent restarts, its binary executed from the watched root" test "$(inside systemctl is-active fanfilter)" = active
inside systemctl stop fanfilter
summary=$(inside journalctl -u fanfilter --no-pager -o cat | grep '^stopped: ' | head -1)
events=$(sed -n 's/.* events=\([0-9]*\).*/\1/p' <<< "$summary")
responses=$(sed -n 's/.* responses=\([0-9]*\).*/\1/p' <<< "$summary")
kdenied=$(sed -n 's/.* kernel-denied=\([0-9]*\).*/\1/p' <<< "$summary")
check "one response per event ($events events, $responses responses)" test -n "$events" -a "$events" = "$responses"
check "the kernel denied nothing behind the agent's back (kernel-denied=$kdenied)" test "$kdenied" = 0
denials=$(inside journalctl -u fanfilter --no-pager -o cat MESSAGE_ID=5ff9ce5337e04d65a849e0eb560f125b | grep -c '^deny open /srv/denied/secret')
echo "stress: own files: rounds $((4 * ROUNDS)), events $events, responses $responses, kernel-denied $kdenied, denials in the journal $denials, rotations $rotations ($rotated rotated files kept), journald restarts $restarts, policy reloads $reloads"
finish
