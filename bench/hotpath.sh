#!/usr/bin/env bash
# make hotpath: what one decided event costs the agent, counted rather than
# timed: system calls (strace -c), context switches, malloc calls (a perf
# uprobe on libc's malloc, when perf is installed), user-space instructions
# (callgrind, when valgrind is installed: the same count run after run,
# whatever else the machine is doing) and CPU time, per event,
# for the minimal C listener and for fanfilter with the bench policy and
# cache = off, over EVENTS opens (default 20,000) by one opener thread.
# Run as root in a private mount namespace (make hotpath does: unshare -m).
set -eu
EVENTS=${EVENTS:-20000}
FANFILTER=${FANFILTER:?path to a release fanfilter}
. "$(dirname "$0")/common.sh"
setup hotpath 256m
command -v strace > /dev/null || { echo "make hotpath needs strace (apt-get install strace)"; exit 1; }
LIBC=$(ldd "$FANFILTER" | awk '/libc.so/ { print $3 }')
PERF=
if command -v perf > /dev/null && perf probe -q -x "$LIBC" malloc 2> /dev/null || perf list 2> /dev/null | grep -q probe_libc:malloc; then
    PERF=probe_libc:malloc
fi

cc -O2 -o "$WORK/listener" "$SRC/bench/listener.c"
"$WORK/openbench" create 1 "$D" 1 > /dev/null
bench_policy > "$WORK/policy"

# instructions READY COMMAND...: the agent's user-space instructions over
# the opens (EVENTS and the warm-up), counted by callgrind; - without valgrind.
instructions() {
    local ready=$1 bin=$2; shift 2
    command -v valgrind > /dev/null || { echo -; return; }
    # valgrind 3.19 cannot read the DWARF 5 that Swift writes: a copy without it (symbols kept).
    strip --strip-debug -o "$WORK/callgrind-bin" "$bin"
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind" "$WORK/callgrind-bin" "$@" > "$WORK/out" 2>&1 & local pid=$!
    for _ in $(seq 600); do grep -q "$ready" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
    # Past the agent's release of its start-up pages (a second after it is ready): not an event's cost.
    sleep 3
    callgrind_control -z "$pid" > /dev/null 2>&1
    "$WORK/openbench" hot 1 "$D" "$EVENTS" > /dev/null
    kill -TERM "$pid"; wait "$pid" || true
    awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$WORK/callgrind"
}

# measure NAME READY COMMAND...: the agent under strace (syscalls), then
# again plain (context switches, CPU), under perf stat (mallocs) and under
# callgrind (instructions).
measure() {
    local name=$1 ready=$2; shift 2
    local pid
    strace -f -c -o "$WORK/strace" "$@" > "$WORK/out" 2>&1 & pid=$!
    for _ in $(seq 200); do grep -q "$ready" "$WORK/out" 2>/dev/null && break; sleep 0.05; done
    "$WORK/openbench" hot 1 "$D" "$EVENTS" > /dev/null
    kill -TERM "$(pgrep -n -P "$pid")"; wait "$pid" || true
    local syscalls futex
    syscalls=$(awk '$NF == "total" { print $(NF-2) }' "$WORK/strace")
    futex=$(awk '$NF == "futex" { print $4 }' "$WORK/strace")
    "$@" > "$WORK/out" 2>&1 & pid=$!
    for _ in $(seq 200); do grep -q "$ready" "$WORK/out" 2>/dev/null && break; sleep 0.05; done
    local before after
    before=$(cat /proc/$pid/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }')
    local cpu0
    cpu0=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
    local mallocs=-
    if [ -n "$PERF" ]; then
        perf stat -x, -e "$PERF" -p "$pid" -o "$WORK/perf" & local perfpid=$!
        sleep 0.2
    fi
    "$WORK/openbench" hot 1 "$D" "$EVENTS" > /dev/null
    if [ -n "$PERF" ]; then kill -INT $perfpid; wait $perfpid || true; mallocs=$(awk -F, '/malloc/ { print $1 }' "$WORK/perf"); fi
    after=$(cat /proc/$pid/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }')
    local cpu1
    cpu1=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
    kill -TERM "$pid"; wait "$pid" || true
    local instr
    instr=$(instructions "$ready" "$@")
    # The warm-up pass of openbench adds 1,000 events to each count.
    python3 - "$name" "$EVENTS" "$syscalls" "${futex:-0}" "$((after - before))" "$((cpu1 - cpu0))" "$mallocs" "${instr:--}" <<'PY'
import sys
name, events, syscalls, futex, switches, ticks, mallocs, instr = sys.argv[1:]
n = int(events) + 1000
m = "-" if mallocs in ("-", "", "<not counted>") else f"{int(mallocs) / n:.1f}"
i = "-" if instr == "-" else f"{int(instr) / n:,.0f}"
print(f"{name:<12} {int(syscalls) / n:>9.1f} {int(futex) / n:>7.1f} {int(switches) / n:>9.1f} {m:>8} {i:>12} {int(ticks) * 1e7 / n / 1000:>10.1f}")
PY
}

printf '%-12s %9s %7s %9s %8s %12s %10s\n' agent syscalls futex switches mallocs instructions "CPU µs"
measure c-listener ready "$WORK/listener" "$D"
measure fanfilter started: "${AGENTD[@]}" --policy "$WORK/policy" --log-target stderr
echo "(per event; switches are the agent's context switches, instructions its user-space ones, CPU its user+system time)"
