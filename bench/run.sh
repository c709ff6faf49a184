#!/usr/bin/env bash
# make bench: the cost of an agent in every open, side by side, in one run.
# Contenders, interleaved round by round so machine drift hits all alike:
#   none        no listener (the bare kernel)
#   c-listener  bench/listener.c: read, readlink, FAN_ALLOW, close (the floor)
#   fanfilter   a realistic 20-rule policy, cache = off
#   fanfilter-cache  the same with cache = kernel (ignore marks)
#   fanfilter-ask    the same decisions made by an external client on the port
#               (Examples/scanner, 2 threads × 5 primed gets; its CPU is counted
#               with the agent's); each thread follows the agent's load
#               (SCHED_BATCH while the reader has more events waiting)
#   fanfilter-ask-plain the same with the scanner's threads in the class they
#               start in (--fixed-class): a client that does not follow the load
#   fanfilter-ask-rt the same with the scanner's threads real-time (--realtime:
#               SCHED_FIFO 1), as a decider on a busy server may be run
#   fanfilter-ask-batch the same with the scanner under SCHED_BATCH (chrt -b, as
#               CPUSchedulingPolicy=batch runs it): woken, it does not preempt
#               the thread that woke it
#   fanfilter-observed  fanfilter with an observer connected that never reads
#               (what a stuck `fanfilter monitor` costs: it must cost nothing)
#   fanfilter-metrics  fanfilter writing its metrics file every second (the
#               counters, rule hits and latency histograms: it must cost nothing)
#   fapolicyd   permissive, watch_fs = tmpfs, trust = file, a comparable rule set,
#               nice_val as it ships (14: it runs at nice -14; FAPOLICYD_NICE_VAL
#               sets another), as fanfilter runs with its own priority_boost
#               (when installed: apt-get install fapolicyd); its configuration
#               is bind-mounted over /etc/fapolicyd inside this private namespace
# Workloads (bench/openbench.c) on a private tmpfs, with 1 and 2 opener threads,
# on an idle machine and on a busy one (BUSY CPU-bound processes at normal
# priority, one per core by default, running through every busy round; BUSY=0
# measures idle only). Besides the agent's own CPU per event, the machine's
# CPU per event (every core's non-idle time, less the busy processes' own) is
# reported: spinning shows as the cost it is.
# Run as root in a private mount namespace (make bench does: unshare -m).
# To look at a part: WORKLOADS="hot:1 read:2" (workload:openers) and
# CONTENDERS="none c-listener fanfilter" choose the rows; FANFILTER_BEFORE=PATH
# adds the contenders "fanfilter-before" and "fanfilter-before-cache" (another
# build, cache = off and cache = kernel; CONTENDERS picks) to compare
# a change with what it changes, in the same run; MODES="busy" measures one mode.
set -eu
ROUNDS=${ROUNDS:-3}
BUSY=${BUSY:-$(nproc)}
HOT=${HOT:-20000}
COLD=${COLD:-100000}
EXEC=${EXEC:-500}
FANFILTER=${FANFILTER:?path to a release fanfilter}
SCANNER=${SCANNER:-$(dirname "$FANFILTER")/fanfilter-scanner}
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../tools/fapolicyd-sandbox.sh"
setup bench 2g   # the namespace's other mounts go when it ends
OUT=$SRC/bench/results
mkdir -p "$OUT"

cc -O2 -o "$WORK/listener" "$SRC/bench/listener.c"
"$WORK/openbench" create 1 "$D" "$COLD"
mkdir -p "$D/bin" && cp /bin/true "$D/bin/true"

bench_policy > "$WORK/policy"
bench_policy kernel > "$WORK/policy-cache"
bench_policy | sed "s|^watch = .*|&\nmetrics_file = $WORK/fanfilter.prom\nmetrics_interval = 1s|" > "$WORK/policy-metrics"
# The same decisions made by an external client: the rule that allows the
# workload's opens asks instead, and the scanner example answers (no content
# to scan: a trivial decision), so the difference is the port's round trip.
bench_policy | sed -e "s|^allow     perm=open uid=0 : dir=$D/\$|ask perm=any all : dir=$D/\ncontent_bytes = 0\n&|" > "$WORK/policy-ask"
grep -q "^ask " "$WORK/policy-ask" || { echo "bench: no ask rule in the policy-ask variant" >&2; exit 1; }
chmod 0644 "$WORK/policy" "$WORK/policy-cache" "$WORK/policy-ask" "$WORK/policy-metrics"

if command -v fapolicyd > /dev/null; then
    F=$WORK/fapolicyd
    mkdir -p "$F"
    cat > "$F/compiled.rules" <<R
%admins=0
deny_syslog perm=execute all : dir=/tmp/
allow_syslog perm=open uid=1000 : path=/etc/shadow
deny perm=open uid=1000 : path=$D/secret.csv
allow perm=any exe=/usr/bin/rsync : all
deny perm=open uid=1001 : dir=/srv/private/
deny perm=execute all : dir=/home/
deny perm=open gid=1003 : dir=$D/restricted/
deny perm=any uid=1004 : path=$D/a
deny perm=execute all : dir=/var/tmp/
allow perm=open uid=0 : dir=$D/
allow perm=any all : all
R
    fapolicyd_sandbox "$F" none
fi

AGENT_PID=
start_agent() {
    AGENT_PID=
    case $1 in
        none) return ;;
        c-listener) "$WORK/listener" "$D" > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="ready" ;;
        fanfilter) "${AGENTD[@]}" --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-before) "${AGENTD_BEFORE[@]}" --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-before-cache) "${AGENTD_BEFORE[@]}" --policy "$WORK/policy-cache" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-cache) "${AGENTD[@]}" --policy "$WORK/policy-cache" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-ask|fanfilter-ask-plain|fanfilter-ask-rt|fanfilter-ask-batch) "${AGENTD[@]}" --policy "$WORK/policy-ask" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-observed) "${AGENTD[@]}" --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-metrics) "${AGENTD[@]}" --policy "$WORK/policy-metrics" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fapolicyd) fapolicyd --debug-deny > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="Starting to listen" ;;
    esac
    for _ in $(seq 200); do grep -q "$ready" "$WORK/agent.out" 2>/dev/null && break; sleep 0.05; done
    grep -q "$ready" "$WORK/agent.out" || { echo "$1 did not start:"; cat "$WORK/agent.out"; exit 1; }
    AGENT_READY=$(date +%s%N)
    CLIENT_PID=
    case $1 in
        fanfilter-ask|fanfilter-ask-plain|fanfilter-ask-rt|fanfilter-ask-batch)
            $([ "$1" = fanfilter-ask-batch ] && echo chrt -b 0) "$SCANNER" 5 2 --quiet --socket "$WORK/port" $([ "$1" = fanfilter-ask-rt ] && echo --realtime) $([ "$1" = fanfilter-ask-plain ] && echo --fixed-class) > "$WORK/client.out" 2>&1 & CLIENT_PID=$!
            for _ in $(seq 200); do grep -q "connected" "$WORK/client.out" 2>/dev/null && break; sleep 0.05; done ;;
        fanfilter-observed)
            # Says hello as an observer, then never reads a frame.
            python3 -c 'import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
s.send(struct.pack("<IIIIIHH", 1, 1, 1, 0, 0, 4, 0) + b"slow"); print("connected", flush=True); time.sleep(86400)' \
                "$WORK/port" > "$WORK/client.out" 2>&1 & CLIENT_PID=$!
            for _ in $(seq 200); do grep -q "connected" "$WORK/client.out" 2>/dev/null && break; sleep 0.05; done ;;
    esac
}
# Sets RSS (peak), RSS_END (resident at the end of the run, and at least 1.5 s after the
# agent was ready: fanfilterd lets its start-up pages go a second after it starts, and a
# run of 20,000 quick opens can end before that) and CPU, then stops the agent and waits
# until it has exited (in this shell, not a subshell: only the parent can wait for it).
stop_agent() {
    RSS=0 RSS_END=0 CPU=0
    [ -z "$AGENT_PID" ] && return
    RSS=$(awk '/^VmHWM/ { print $2 }' /proc/$AGENT_PID/status)
    CPU=$(awk '{ print $14 + $15 }' /proc/$AGENT_PID/stat)
    local left=$(( AGENT_READY + 1500000000 - $(date +%s%N) ))
    [ "$left" -gt 0 ] && sleep "$(printf '%d.%09d' $((left / 1000000000)) $((left % 1000000000)))"
    RSS_END=$(awk '/^VmRSS/ { print $2 }' /proc/$AGENT_PID/status)
    if [ -n "$CLIENT_PID" ]; then
        case $1 in fanfilter-ask*) CPU=$((CPU + $(awk '{ print $14 + $15 }' /proc/$CLIENT_PID/stat))) ;; esac
        kill -TERM "$CLIENT_PID"
        wait "$CLIENT_PID" 2>/dev/null || true
    fi
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID= CLIENT_PID=
}

CLIENT_PID=
trap 'stop_hogs; [ -z "$CLIENT_PID" ] || kill "$CLIENT_PID" 2>/dev/null || true; [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true; umount -l "$D" 2>/dev/null; rm -rf "$WORK"' EXIT
# Non-idle jiffies of the whole machine, less those of the busy processes.
machine_jiffies() {
    local all hogs=0 p
    all=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)
    for p in "${HOGS[@]}"; do hogs=$((hogs + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo $((all - hogs))
}

contenders="none c-listener fanfilter fanfilter-cache fanfilter-ask fanfilter-ask-plain fanfilter-ask-rt fanfilter-ask-batch fanfilter-observed fanfilter-metrics"
command -v fapolicyd > /dev/null && contenders="$contenders fapolicyd"
[ -n "${FANFILTER_BEFORE:-}" ] && contenders="$contenders fanfilter-before fanfilter-before-cache"
contenders=${CONTENDERS:-$contenders}
# Refused by name before anything is measured (bench/allowlist.sh measures only the contenders it takes).
for c in $contenders; do
    case $c in
        none|c-listener|fanfilter|fanfilter-cache|fanfilter-ask|fanfilter-ask-plain|fanfilter-ask-rt|fanfilter-ask-batch) ;;
        fanfilter-observed|fanfilter-metrics) ;;
        fanfilter-before|fanfilter-before-cache) [ -n "${FANFILTER_BEFORE:-}" ] || { echo "bench/run.sh: contender $c needs FANFILTER_BEFORE=PATH (a fanfilter to compare with)" >&2; exit 2; } ;;
        fapolicyd) command -v fapolicyd > /dev/null || { echo "bench/run.sh: contender fapolicyd: fapolicyd is not installed" >&2; exit 2; } ;;
        *) echo "bench/run.sh: unknown contender '$c' (none, c-listener, fanfilter, fanfilter-cache, fanfilter-ask, fanfilter-ask-plain, fanfilter-ask-rt, fanfilter-ask-batch, fanfilter-observed, fanfilter-metrics, fanfilter-before, fanfilter-before-cache, fapolicyd)" >&2; exit 2 ;;
    esac
done
case " $contenders " in *" none "*) ;; *) contenders="none $contenders" ;; esac
case " $contenders " in *" c-listener "*) ;; *) contenders="$contenders c-listener" ;; esac
workloads=""
for w in ${WORKLOADS:-hot:1 hot:2 cold:1 cold:2 read:1 read:2 exec:1 exec:2}; do
    case ${w%%:*} in hot|read) n=$HOT ;; cold) n=$COLD ;; exec) n=$EXEC ;; *) echo "unknown workload $w" >&2; exit 2 ;; esac
    workloads="$workloads $w:$n"
done
modes=$(bench_modes)
RAW=$WORK/raw
: > "$RAW"
measure_round() {  # ROUND MODE
    local spec workload threads count c before ns machine
    for spec in $workloads; do
        IFS=: read -r workload threads count <<< "$spec"
        for c in $contenders; do
            start_agent "$c"
            before=$(machine_jiffies)
            ns=$("$WORK/openbench" "$workload" "$threads" "$D" "$count" | sed -n 's/ns_per_op=\([0-9]*\).*/\1/p')
            machine=$(( $(machine_jiffies) - before ))
            stop_agent "$c"
            echo "$1 $2 $workload $threads $c $ns $RSS $CPU $count $machine $RSS_END" >> "$RAW"
        done
    done
}
bench_rounds measure_round

python3 - "$RAW" "$OUT" "$(nproc)" "$(uname -r)" <<'PY'
import json, statistics, sys, time
raw, out, cpus, kernel = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = {}
tick_ns = 1e9 / 100  # USER_HZ
for line in open(raw):
    r, m, w, t, c, ns, rss, cpu, count, machine, rss_end = line.split()
    rows.setdefault((m, w, int(t), c), []).append((int(ns), int(rss), int(cpu) * tick_ns / int(count),
                                                   int(machine) * tick_ns / int(count), int(r), int(rss_end)))
table = []
print(f"{'mode':<5} {'workload':<8} {'thr':>3} {'contender':<15} {'ns/op':>9} {'spread':>15} {'ops/s':>9} {'x bare':>7} {'x C':>6} {'RSS KiB':>8} {'end KiB':>8} {'agent CPU ns/op':>16} {'machine CPU ns/op':>18}")
order = lambda kv: (["busy", "idle"].index(kv[0][0]), ["hot", "cold", "read", "exec"].index(kv[0][1]), kv[0][2],
                    ["none", "c-listener", "fanfilter", "fanfilter-ask", "fanfilter-ask-plain", "fanfilter-ask-rt", "fanfilter-ask-batch", "fanfilter-observed", "fanfilter-metrics", "fanfilter-before", "fanfilter-cache", "fanfilter-before-cache", "fapolicyd"].index(kv[0][3]))
for (m, w, t, c), v in sorted(rows.items(), key=order):
    ns = statistics.median(x[0] for x in v)
    bare = statistics.median(x[0] for x in rows[(m, w, t, "none")])
    cl = statistics.median(x[0] for x in rows[(m, w, t, "c-listener")])
    rss = max(x[1] for x in v)
    rss_end = max(x[5] for x in v)
    cpu = statistics.median(x[2] for x in v)
    machine = statistics.median(x[3] for x in v)
    spread = f"{min(x[0] for x in v)}-{max(x[0] for x in v)}"
    print(f"{m:<5} {w:<8} {t:>3} {c:<15} {ns:>9.0f} {spread:>15} {1e9/ns:>9.0f} {ns/bare:>7.2f} {ns/cl:>6.2f} {rss:>8} {rss_end:>8} {cpu:>16.0f} {machine:>18.0f}")
    table.append(dict(mode=m, workload=w, threads=t, contender=c, ns_per_op=ns, min=min(x[0] for x in v), max=max(x[0] for x in v),
                      ratio_bare=ns / bare, ratio_c_listener=ns / cl, peak_rss_kib=rss, end_rss_kib=rss_end, agent_cpu_ns_per_op=cpu,
                      machine_cpu_ns_per_op=machine))
# A client's decisions against the same ones in process (the port's target: at most 2×): the
# ratio of the medians, and each round's own ratio (a round runs the two one after the other,
# so a drift of the machine between rounds cancels out of it).
medians = {k: statistics.median(x[0] for x in v) for k, v in rows.items()}
def round_ratios(m, w, t, c):
    in_process = {x[4]: x[0] for x in rows[(m, w, t, "fanfilter")]}
    return sorted(x[0] / in_process[x[4]] for x in rows[(m, w, t, c)] if x[4] in in_process)
for (m, w, t, c), ns in sorted(medians.items(), key=lambda kv: order((kv[0], None))):
    if c.startswith("fanfilter-ask") and (m, w, t, "fanfilter") in medians:
        each = round_ratios(m, w, t, c)
        print(f"{m:<5} {w:<8} {t:>3} {c:<15} {ns / medians[(m, w, t, 'fanfilter')]:.2f}x the in-process decision "
              f"(round by round {each[0]:.2f}-{each[-1]:.2f}x, median {statistics.median(each):.2f}x)")
        next(r for r in table if (r["mode"], r["workload"], r["threads"], r["contender"]) == (m, w, t, c))["in_process_ratio_by_round"] = each
# Against the target, per client contender: in how many rows, and the worst.
for c in sorted({k[3] for k in medians if k[3].startswith("fanfilter-ask")}):
    keys = [(m, w, t) for (m, w, t, cc) in medians if cc == c and (m, w, t, "fanfilter") in medians]
    if keys:
        ratios = [(medians[(m, w, t, c)] / medians[(m, w, t, "fanfilter")], f"{m} {w} {t}") for m, w, t in keys]
        by_round = [(statistics.median(round_ratios(m, w, t, c)), f"{m} {w} {t}") for m, w, t in keys]
        worst, worst_by_round = max(ratios), max(by_round)
        print(f"{c}: at most 2x the in-process decision in {sum(r <= 2 for r, _ in ratios)} of {len(ratios)} rows "
              f"(the worst {worst[0]:.2f}x: {worst[1]}); by the median of the rounds' own ratios in "
              f"{sum(r <= 2 for r, _ in by_round)} of {len(by_round)} (the worst {worst_by_round[0]:.2f}x: {worst_by_round[1]})")
name = f"{out}/bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
json.dump(dict(cpus=cpus, kernel=kernel, rounds=len(next(iter(rows.values()))), results=table), open(name, "w"), indent=1)
print(f"written: {name}")
PY

# The floor under fanfilter-ask: what a bare round trip between two processes
# costs on this machine, idle and busy, with no work: both blocking (two
# wake-ups), and with the asking one spinning for the answer as the event
# reader does on an idle machine (one wake-up).
case " $contenders " in *" fanfilter-ask "*)
    cc -O2 -o "$WORK/pingpong" "$SRC/bench/pingpong.c"
    for mode in $modes; do
        [ "$mode" = busy ] && start_hogs
        echo "$mode: a bare round trip between two processes over SOCK_SEQPACKET: $("$WORK/pingpong" 100000 | sed 's/round_trip_ns=//') ns; the asker spinning: $("$WORK/pingpong" 100000 spin | sed 's/round_trip_ns=//') ns"
        stop_hogs
    done ;;
esac
