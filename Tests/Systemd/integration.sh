#!/usr/bin/env bash
# fanfilter under a real systemd. Boots systemd as PID 1 of a new pid+mount
# namespace, pivoted into an overlay of / whose upper layer is a tmpfs, with
# fresh proc, sys, run and tmp: nothing it does reaches the host's files, and
# systemd never runs on the host root. Installs fanfilter there, then checks
# the service, the journal, reload, the watchdog and stop. Every wait is bounded.
#
#   integration.sh FANFILTER_BINARY
#
# Prints one line per check and ends with "systemd-integration: N passed, M failed".
set -u
BINARY=$(readlink -f "$1")
SUITE=systemd-integration
. "$(dirname "$0")/sandbox.sh"

# Install into the overlay (a DESTDIR install) and write the test's policy.
make -s -C "$SRC" install DESTDIR="$ROOT" BINARY="$BINARY" > /dev/null
check "make install put the binary, unit and catalog in place" \
    test -x "$ROOT/usr/local/sbin/fanfilter" -a -x "$ROOT/usr/local/sbin/fanfilterd" -a -f "$ROOT/usr/local/lib/systemd/system/fanfilter.service" \
         -a -f "$ROOT/usr/local/lib/systemd/catalog/fanfilter.catalog" -a -f "$ROOT/etc/fanfilter/policy"
inside systemd-analyze verify --man=no /usr/local/lib/systemd/system/fanfilter.service > "$BASE.verify" 2>&1
check "systemd-analyze verify passes on the unit" test ! -s "$BASE.verify"
[ -s "$BASE.verify" ] && cat "$BASE.verify"
score=$(inside systemd-analyze security --offline=true /usr/local/lib/systemd/system/fanfilter.service 2>/dev/null \
    | sed -n 's/.*Overall exposure level for fanfilter.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security exposure is at most 3.0 (it is $score)" awk "BEGIN { exit !($score <= 3.0) }"

inside mkdir -p /srv/watched
inside mount -t tmpfs tmpfs /srv/watched
inside sh -c 'echo secret > /srv/watched/secret; echo open > /srv/watched/open; printf x > "/srv/watched/new
line"; printf x > "/srv/watched/bad-$(printf "\377")"'
policy() { cat > "$ROOT/etc/fanfilter/policy"; chmod 0644 "$ROOT/etc/fanfilter/policy"; }
policy <<'P'
watch = /srv/watched
reply_timeout = 250ms
deny_log perm=open all : path=/srv/watched/secret
deny_log perm=open all : path="/srv/watched/new\nline"
deny_log perm=open all : path="/srv/watched/bad-\xff"
P
make -s -C "$SRC" install DESTDIR="$ROOT" BINARY="$BINARY" > /dev/null
check "make install again keeps the administrator's policy" grep -q "bad-" "$ROOT/etc/fanfilter/policy"
# A short watchdog for the test; the shipped unit has 10s.
mkdir -p "$ROOT/etc/systemd/system/fanfilter.service.d"
printf '[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\nRestartSec=500ms\n' > "$ROOT/etc/systemd/system/fanfilter.service.d/test.conf"
inside systemctl daemon-reload
inside journalctl --update-catalog
inside systemctl start fanfilter
check "systemctl start fanfilter: active" test "$(inside systemctl is-active fanfilter)" = active
status=$(inside systemctl show -p StatusText --value fanfilter)
check "STATUS= says what it watches ($status)" grep -q "watching 1 filesystem" <<< "$status"

check "the port's socket is /run/fanfilter/port, a socket, mode 0600 root:root" \
    test "$(inside stat -c '%F %a %U:%G' /run/fanfilter/port)" = "socket 600 root:root"
inside /usr/local/sbin/fanfilter status > "$BASE.status" 2>&1
check "fanfilter status answers through the service's socket" grep -q "^policy: /etc/fanfilter/policy$" "$BASE.status"
inside cat /srv/watched/secret > /dev/null 2> "$BASE.err"
check "a denied open fails with EPERM" grep -q "Operation not permitted" "$BASE.err"
check "an allowed open succeeds" inside cat /srv/watched/open
inside cat "/srv/watched/new
line" > /dev/null 2>&1
inside sh -c 'cat "/srv/watched/bad-$(printf "\377")"' > /dev/null 2>&1
sleep 1
inside journalctl -u fanfilter -o json --no-pager > "$BASE.json"
python3 - "$BASE.json" <<'PY' > "$BASE.fields"
import json, sys
def text(v):
    return bytes(v).decode("utf-8", "backslashreplace") if isinstance(v, list) else v
for line in open(sys.argv[1]):
    e = json.loads(line)
    if text(e.get("FANFILTER_DECISION")) == "deny":
        keys = ["MESSAGE_ID", "FANFILTER_PERM", "FANFILTER_PATH", "FANFILTER_RULE", "FANFILTER_RULE_NUMBER",
                "FANFILTER_SUBJECT_PID", "FANFILTER_SUBJECT_EXE", "FANFILTER_SUBJECT_COMM", "FANFILTER_SUBJECT_UID",
                "FANFILTER_SUBJECT_GID", "FANFILTER_PORT_MESSAGE_ID", "FANFILTER_LATENCY_US", "PRIORITY"]
        print(repr(text(e.get("FANFILTER_PATH"))), all(k in e for k in keys), text(e.get("MESSAGE_ID")),
              text(e.get("FANFILTER_RULE")), text(e.get("MESSAGE")))
PY
check "the journal has the denial with every FANFILTER_ field" \
    grep -q "^'/srv/watched/secret' True 5ff9ce5337e04d65a849e0eb560f125b /etc/fanfilter/policy:3 deny open /srv/watched/secret by /usr/bin/cat\[" "$BASE.fields"
grep -q "True" "$BASE.fields" || { echo "the deny entries in the journal:"; cat "$BASE.fields"; }
check "a path with a newline reaches the journal whole" grep -q "^'/srv/watched/new\\\\nline' True" "$BASE.fields"
check "a path that is not UTF-8 reaches the journal byte for byte" grep -q "^'/srv/watched/bad-\\\\\\\\xff' True" "$BASE.fields"
inside journalctl -x -u fanfilter --no-pager MESSAGE_ID=5ff9ce5337e04d65a849e0eb560f125b > "$BASE.x" 2>&1
check "journalctl -x explains the entry from the catalog" grep -q "If this access should be allowed" "$BASE.x"

# Reload: the decisions change; a broken policy is rejected and the old one stays.
policy <<'P'
watch = /srv/watched
deny_log perm=open all : path=/srv/watched/open
P
check "systemctl reload returns (within the bound) once the new policy is in force" inside systemctl reload fanfilter
check "after systemctl reload the new policy decides (secret allowed)" inside cat /srv/watched/secret
check "after systemctl reload the new policy decides (open denied)" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w cat /srv/watched/open 2>&1 | grep -q 'Operation not permitted'"
check "the journal logged policy-loaded" journal_has 67268b710b7c45519f8135cc78faa67a 'policy loaded'
policy <<'P'
watch = /srv/watched
mode = lax
P
inside systemctl reload fanfilter
check "a broken policy keeps the running one" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w cat /srv/watched/open 2>&1 | grep -q 'Operation not permitted'"
sleep 0.5
check "the journal logged the rejection with FILE:LINE" journal_has e60d32656c83427d95073a620f41dc6b '/etc/fanfilter/policy:2:8: error: unknown mode'
inside /usr/local/sbin/fanfilter reload > "$BASE.reload" 2>&1; rc=$?
check "fanfilter reload waits and prints the rejection with FILE:LINE:COL (exit $rc)" \
    bash -c "[ $rc = 1 ] && grep -q '/etc/fanfilter/policy:2:8: error: unknown mode' '$BASE.reload'"
check "the service is still active" test "$(inside systemctl is-active fanfilter)" = active

# The journal's own directory, watched and every open logged, under load: no
# deadlock between the agent and journald (fapolicyd's issue #427).
policy <<'P'
watch = /run/log/journal
watch = /srv/watched
log_rate = 100000
allow_log perm=any all : all
P
inside systemctl reload fanfilter
inside sh -c 'for i in $(seq 300); do cat /srv/watched/open /srv/watched/secret > /dev/null; logger -t load "entry $i"; done' &
loadpid=$!
for _ in $(seq $((3 * TICKS))); do kill -0 $loadpid 2>/dev/null || break; sleep 0.1; done
check "opens and journald writes under a policy that watches the journal finish" bash -c "! kill -0 $loadpid 2>/dev/null"
kill -9 $loadpid 2>/dev/null
check "journald still answers" bash -c "timeout $BOUND nsenter -t $PID1 -m -p -r -w journalctl -n 1 --no-pager > /dev/null"
check "the agent still answers" inside cat /srv/watched/open

# Watchdog: a stopped agent is killed and restarted, and the blocked opener returns.
policy <<'P'
watch = /srv/watched
deny perm=open all : path=/srv/watched/secret
P
inside systemctl reload fanfilter
main=$(inside systemctl show -p MainPID --value fanfilter)
hostmain=$(awk '/^NSpid/ { print $2 }' /proc/[0-9]*/status 2>/dev/null | head -0; for p in $(pgrep -f "usr/local/sbin/fanfilterd --policy"); do awk -v p=$p -v m=$main '/^NSpid/ { if ($3 == m) print p }' /proc/$p/status; done | head -1)
kill -STOP "$hostmain"
start=$(date +%s)
inside cat /srv/watched/open > /dev/null 2>&1 &
opener=$!
for _ in $(seq $((3 * TICKS / 2))); do kill -0 $opener 2>/dev/null || break; sleep 0.1; done
check "the opener blocked on the stopped agent returns" bash -c "! kill -0 $opener 2>/dev/null"
for _ in $(seq $TICKS); do
    [ "$(inside systemctl show -p NRestarts --value fanfilter)" -ge 1 ] 2>/dev/null && \
        [ "$(inside systemctl is-active fanfilter)" = active ] && break
    sleep 0.1
done
took=$(( $(date +%s) - start ))
check "the watchdog killed and restarted the agent (NRestarts=$(inside systemctl show -p NRestarts --value fanfilter), ${took}s)" \
    test "$(inside systemctl show -p NRestarts --value fanfilter)" -ge 1 -a "$took" -le 15
sleep 0.5
inside cat /srv/watched/secret > /dev/null 2> "$BASE.err"
check "the restarted agent denies again" grep -q "Operation not permitted" "$BASE.err"

# Stop under load: every opener returns.
inside sh -c 'for i in $(seq 2000); do cat /srv/watched/open > /dev/null 2>&1; done' &
l1=$!
inside sh -c 'for i in $(seq 2000); do cat /srv/watched/secret > /dev/null 2>&1; done' &
l2=$!
sleep 0.3
inside systemctl stop fanfilter
check "systemctl stop: inactive" test "$(inside systemctl is-active fanfilter)" = inactive
for _ in $(seq $((3 * TICKS))); do kill -0 $l1 2>/dev/null || kill -0 $l2 2>/dev/null || break; sleep 0.1; done
check "no opener hangs after systemctl stop" bash -c "! kill -0 $l1 2>/dev/null && ! kill -0 $l2 2>/dev/null"
kill -9 $l1 $l2 2>/dev/null
check "the journal logged agent-stopping" journal_has 493983e6329146be90fdd36cbb8a2d62 stopping
check "the journal has no libdispatch complaint about thread priorities" \
    bash -c "out=\$(timeout $BOUND nsenter -t $PID1 -m -p -r -w journalctl -u fanfilter --no-pager) && [ -n \"\$out\" ] && ! grep -q 'Failed to set thread priority' <<< \"\$out\""
echo "systemd-analyze security exposure: $score"
finish
