#!/usr/bin/env bash
# make soak: fanfilter's memory over a long run. The agent (the bench policy
# with cache = CACHE, default user: no ignore mark keeps an open in the
# kernel, and the agent's own cache, full and smaller than the 100,000 files,
# misses every time: the most memory, and every open decided) answers EVENTS
# opens (default 5,000,000) of 100,000 distinct files by 2 opener threads on
# a private tmpfs; its VmRSS is printed after every STEP events (default
# 1,000,000) with its peak (VmHWM), and the run fails if the resident size
# grew by more than GROWTH KiB (default 512) between the first step and the end.
# Run as root in a private mount namespace (make soak does: unshare -m).
set -eu
EVENTS=${EVENTS:-5000000}
STEP=${STEP:-1000000}
GROWTH=${GROWTH:-512}
CACHE=${CACHE:-user}
FILES=100000
FANFILTER=${FANFILTER:?path to a release fanfilter}
. "$(dirname "$0")/common.sh"
setup soak 1g

"$WORK/openbench" create 1 "$D" "$FILES" > /dev/null
bench_policy "$CACHE" > "$WORK/policy"
"${AGENTD[@]}" --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT=$!
for _ in $(seq 200); do grep -q "started:" "$WORK/agent.out" && break; sleep 0.05; done

kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$AGENT/status"; }
first=
done_events=0
printf '%10s %10s %10s %8s\n' events "VmRSS KiB" "VmHWM KiB" "ns/op"
while [ "$done_events" -lt "$EVENTS" ]; do
    n=$STEP
    [ $((done_events + n)) -gt "$EVENTS" ] && n=$((EVENTS - done_events))
    # Round after round over the same 100,000 files.
    ns=0
    left=$n
    while [ "$left" -gt 0 ]; do
        c=$(( left < FILES ? left : FILES ))
        out=$("$WORK/openbench" cold 2 "$D" "$c")
        ns=${out#ns_per_op=}; ns=${ns%% *}
        left=$((left - c))
    done
    done_events=$((done_events + n))
    rss=$(kib VmRSS)
    [ -z "$first" ] && first=$rss
    printf '%10d %10d %10d %8d\n' "$done_events" "$rss" "$(kib VmHWM)" "$ns"
done
growth=$((rss - first))
echo "VmRSS grew by $growth KiB between the first step and the end (at most $GROWTH allowed)"
grep -E "events=" "$WORK/agent.out" | tail -1 || true
[ "$growth" -le "$GROWTH" ]
