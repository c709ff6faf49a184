#!/usr/bin/env bash
# make bench (second part), make bench-allowlist: application allow-listing
# beside fapolicyd, in one run. fapolicyd's default rules (Debian's sample
# rules, the known-libs set: trusted ELF files and libraries run, anything
# else is denied), integrity = sha256, one trust file for both, both
# permissive so a denial costs what it costs without failing the workload.
# Contenders:
#   none             no listener (the bare kernel)
#   fanfilter        cache = off: every access decided (a digest or a type, once
#                    read, is still kept by the file's identity)
#   fanfilter-cache  cache = kernel (the default)
#   fapolicyd        permissive, watch_fs = tmpfs, trust = file (when installed)
# Workloads on a private tmpfs (bench/openbench.c), one opener:
#   exec-trusted     fork+exec of a trusted binary, which loads a trusted copy
#                    of libc from the tmpfs (LD_LIBRARY_PATH): two checks an exec
#   exec-untrusted   fork+exec of a binary no trust entry lists
#   exec-cold        fork+exec of EXEC_COLD trusted binaries never seen before:
#                    each is hashed and typed once (the uncached cost)
# Idle and busy (BUSY CPU-bound processes). Reports ns per exec, x the bare
# kernel, the agent's CPU per exec, its peak RSS, and for fanfilter the
# files it read for a digest or a type (a repeat must read none). Then a
# flood of the hasher: FLOOD processes of uid 1000 run fresh sparse 63 MiB
# files in a loop while root runs FLOOD_RUNS fresh trusted 7 MiB binaries,
# each timed (fanfilter must answer within reply_timeout, 250 ms). Then the
# start-up with a trust database of every file this machine's packages
# installed (integrity = size): the database's size, the time to start, RSS.
set -eu
ROUNDS=${ROUNDS:-3}
BUSY=${BUSY:-$(nproc)}
EXEC=${EXEC:-500}
EXEC_COLD=${EXEC_COLD:-300}
FLOOD=${FLOOD:-24}
FLOOD_RUNS=${FLOOD_RUNS:-10}
FANFILTER=${FANFILTER:?path to a release fanfilter}
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../tools/fapolicyd-sandbox.sh"
setup allowlist 1g
OUT=$SRC/bench/results
mkdir -p "$OUT"

# The files: a trusted program and libc, EXEC_COLD distinct trusted programs, an untrusted one.
mkdir -p "$D/bin" "$D/lib" "$D/u/bin"
cp /bin/true "$D/bin/true"
cp /lib/x86_64-linux-gnu/libc.so.6 "$D/lib/libc.so.6"
for i in $(seq 0 $((EXEC_COLD - 1))); do { cat /bin/true; printf '%s' "$i"; } > "$D/bin/true.$i"; done
{ cat /bin/true; printf 'x'; } > "$D/u/bin/true"
for i in $(seq 0 $((FLOOD_RUNS - 1))); do { cat /bin/true; printf '%s' "$i"; head -c 7M /dev/zero; } > "$D/bin/big.$i"; done
chmod 0755 "$D"/bin/* "$D/u/bin/true"
F=$WORK/fapolicyd
mkdir -p "$F" "$WORK/rules.d" "$WORK/empty"
for f in "$D"/bin/* "$D/lib/libc.so.6"; do
    echo "$f $(stat -c %s "$f") $(sha256sum "$f" | cut -c1-64)"
done > "$F/fapolicyd.trust"
fapolicyd_sample_rules "$WORK/rules.d" 10-languages 20-dracut 21-updaters 30-patterns 40-bad-elf 41-shared-obj \
    42-trusted-elf 70-trusted-lang 72-shell 90-deny-execute 95-allow-open > "$F/compiled.rules"
policy() {  # cache
    cat <<P
watch_mount = $D
mode = permissive
cache = $1
port_socket = $WORK/port
trust_db = $WORK/trust.mdb
integrity = sha256
rules_dir = $WORK/rules.d
P
}
policy off > "$WORK/policy"; policy kernel > "$WORK/policy-cache"
chmod 0644 "$WORK/policy" "$WORK/policy-cache"
"$FANFILTER" trust update --policy "$WORK/policy" --trust-file "$F/fapolicyd.trust" --trust-folder "$WORK/empty" \
    --dpkg-info "$WORK/empty" --rpm none > /dev/null

HAVE_FAPOLICYD=no
if command -v fapolicyd > /dev/null; then
    HAVE_FAPOLICYD=yes
    fapolicyd_sandbox "$F" sha256
fi

AGENT_PID=
start_agent() {
    AGENT_PID=
    case $1 in
        none) return ;;
        fanfilter) "${AGENTD[@]}" --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fanfilter-cache) "${AGENTD[@]}" --policy "$WORK/policy-cache" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="started:" ;;
        fapolicyd) fapolicyd --debug-deny > "$WORK/agent.out" 2>&1 & AGENT_PID=$! ; ready="Starting to listen" ;;
    esac
    AGENT=$AGENT_PID
    for _ in $(seq 200); do grep -q "$ready" "$WORK/agent.out" 2>/dev/null && break; sleep 0.05; done
    grep -q "$ready" "$WORK/agent.out" || { echo "$1 did not start:"; cat "$WORK/agent.out"; exit 1; }
}
# Sets RSS, CPU and READS (fanfilter: files read for a digest + for a type), then stops the agent.
stop_agent() {
    RSS=0 CPU=0 READS=-
    [ -z "$AGENT_PID" ] && return
    RSS=$(awk '/^VmHWM/ { print $2 }' /proc/$AGENT_PID/status)
    CPU=$(awk '{ print $14 + $15 }' /proc/$AGENT_PID/stat)
    case $1 in fanfilter*)
        READS=$("$FANFILTER" status --json --socket "$WORK/port" | python3 -c 'import json, sys
c = json.load(sys.stdin)["counters"]; print(str(c["files-hashed"]) + "+" + str(c["files-typed"]))') ;;
    esac
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID= AGENT=
}
trap 'stop_hogs; [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true; umount -l "$D" 2>/dev/null; rm -rf "$WORK"' EXIT

contenders="none fanfilter fanfilter-cache"
[ "$HAVE_FAPOLICYD" = yes ] && contenders="$contenders fapolicyd"
# CONTENDERS is shared with bench/run.sh: the ones this part does not take are left out, and said so.
taken=""
for c in ${CONTENDERS:-$contenders}; do
    case $c in
        none|fanfilter|fanfilter-cache) taken="$taken $c" ;;
        fapolicyd) if [ "$HAVE_FAPOLICYD" = yes ]; then taken="$taken $c"; else echo "allow-listing: fapolicyd is not installed: left out" >&2; fi ;;
        *) echo "allow-listing: contender $c is measured by bench/run.sh only: left out here" >&2 ;;
    esac
done
contenders=$taken
case " $contenders " in *" none "*) ;; *) contenders="none $contenders" ;; esac
modes=$(bench_modes)
RAW=$WORK/raw
: > "$RAW"
measure_round() {  # ROUND MODE
    local workload c count ns
    for workload in exec-trusted exec-untrusted exec-cold; do
        for c in $contenders; do
            start_agent "$c"
            case $workload in
                exec-trusted) count=$EXEC; ns=$(LD_LIBRARY_PATH=$D/lib "$WORK/openbench" exec 1 "$D" "$count") ;;
                exec-untrusted) count=$EXEC; ns=$("$WORK/openbench" exec 1 "$D/u" "$count") ;;
                exec-cold) count=$EXEC_COLD; ns=$(LD_LIBRARY_PATH=$D/lib "$WORK/openbench" execcold 1 "$D" "$count") ;;
            esac
            ns=$(echo "$ns" | sed -n 's/ns_per_op=\([0-9]*\).*/\1/p')
            stop_agent "$c"
            echo "$1 $2 $workload $c $ns $RSS $CPU $count $READS" >> "$RAW"
        done
    done
}
bench_rounds measure_round

# The hasher under one user's flood (idle machine): each root run of a fresh trusted 7 MiB binary, timed.
FLOODRAW=$WORK/flood
: > "$FLOODRAW"
mkdir -p "$D/flood"
chown 1000:1000 "$D/flood"
chmod 0755 "$WORK"   # mktemp made it 0700: uid 1000 must reach its folder
for c in $contenders; do
    [ "$c" = none ] && continue
    start_agent "$c"
    rm -f "$D/flood/stop"
    flooders=()
    for i in $(seq "$FLOOD"); do
        # The script as text: uid 1000 may not be able to enter the checkout.
        setpriv --reuid=1000 --regid=1000 --clear-groups timeout 120 python3 -c "$(cat "$SRC/Tests/Fixtures/hash-flood.py")" \
            "$D/flood" "$i" >> "$WORK/flood.$c" & flooders+=($!)
    done
    sleep 2
    for i in $(seq 0 $((FLOOD_RUNS - 1))); do
        a=$(date +%s%N); "$D/bin/big.$i" || true; b=$(date +%s%N)
        echo "$c $(( (b - a) / 1000 ))" >> "$FLOODRAW"
    done
    touch "$D/flood/stop"
    wait "${flooders[@]}" 2>/dev/null || true
    echo "$c files $(awk '{ n += $1 } END { print n + 0 }' "$WORK/flood.$c")" >> "$FLOODRAW"
    rm -f "$D"/flood/*
    stop_agent "$c"
done

# Start-up with every file of this machine's packages in the trust database.
FULL=$WORK/full
mkdir -p "$FULL"
printf 'watch_mount = %s\nport_socket = none\nintegrity = size\ntrust_db = %s\nrules_dir = %s\n' "$D" "$FULL/trust.mdb" "$WORK/rules.d" > "$FULL/policy"
chmod 0644 "$FULL/policy"
build=$("$FANFILTER" trust update --policy "$FULL/policy" --trust-folder "$WORK/empty" --trust-file "$WORK/empty/none")
startups=""
for _ in 1 2 3; do
    a=$(date +%s%N)
    "${AGENTD[@]}" --policy "$FULL/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT_PID=$! AGENT=$AGENT_PID
    for _ in $(seq 2000); do grep -q "started:" "$WORK/agent.out" 2>/dev/null && break; sleep 0.001; done
    b=$(date +%s%N)
    LD_LIBRARY_PATH=$D/lib "$D/bin/true"
    rss=$(awk '/^VmRSS/ { print $2 }' /proc/$AGENT_PID/status)
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID= AGENT=
    startups="$startups $(( (b - a) / 1000000 )):$rss"
done

python3 - "$RAW" "$OUT" "$(nproc)" "$(uname -r)" "$build" "$startups" "$FLOODRAW" "$FLOOD" <<'PY'
import json, statistics, sys, time
raw, out, cpus, kernel, build, startups, floodraw, flood = sys.argv[1:9]
tick_ns = 1e9 / 100
rows = {}
for line in open(raw):
    r, m, w, c, ns, rss, cpu, count, reads = line.split()
    rows.setdefault((m, w, c), []).append((int(ns), int(rss), int(cpu) * tick_ns / int(count), reads))
order = lambda kv: (["busy", "idle"].index(kv[0][0]), ["exec-trusted", "exec-untrusted", "exec-cold"].index(kv[0][1]),
                    ["none", "fanfilter", "fanfilter-cache", "fapolicyd"].index(kv[0][2]))
print(f"{'mode':<5} {'workload':<15} {'contender':<16} {'ns/exec':>9} {'spread':>17} {'x bare':>7} {'x fapolicyd':>11} {'agent CPU ns/exec':>18} {'RSS KiB':>8} {'reads (hash+type)':>18}")
table = []
for (m, w, c), v in sorted(rows.items(), key=order):
    ns = statistics.median(x[0] for x in v)
    bare = statistics.median(x[0] for x in rows[(m, w, "none")])
    fapo = rows.get((m, w, "fapolicyd"))
    vs = f"{ns / statistics.median(x[0] for x in fapo):.2f}" if fapo else "-"
    cpu = statistics.median(x[2] for x in v)
    rss = max(x[1] for x in v)
    reads = ",".join(sorted(set(x[3] for x in v)))
    spread = f"{min(x[0] for x in v)}-{max(x[0] for x in v)}"
    print(f"{m:<5} {w:<15} {c:<16} {ns:>9.0f} {spread:>17} {ns / bare:>7.2f} {vs:>11} {cpu:>18.0f} {rss:>8} {reads:>18}")
    table.append(dict(mode=m, workload=w, contender=c, ns_per_exec=ns, ratio_bare=ns / bare,
                      ratio_fapolicyd=(ns / statistics.median(x[0] for x in fapo)) if fapo else None,
                      agent_cpu_ns_per_exec=cpu, peak_rss_kib=rss, reads=reads))
floods, flooded = {}, {}
for line in open(floodraw):
    fields = line.split()
    if fields[1] == "files":
        flooded[fields[0]] = int(fields[2])
    else:
        floods.setdefault(fields[0], []).append(int(fields[1]) / 1000)
print(f"root's run of a fresh trusted 7 MiB binary while {flood} processes of uid 1000 run fresh 63 MiB files:")
flood_table = []
for c, ms in floods.items():
    over = sum(1 for x in ms if x > 250)
    print(f"  {c:<16} median {statistics.median(ms):7.1f} ms, max {max(ms):7.1f} ms, over 250 ms {over} of {len(ms)} "
          f"(the flood ran {flooded.get(c, 0)} files)")
    flood_table.append(dict(contender=c, median_ms=statistics.median(ms), max_ms=max(ms), over_250ms=over, runs=len(ms),
                            flood_files=flooded.get(c, 0)))
starts = [tuple(int(x) for x in s.split(":")) for s in startups.split()]
print(f"full trust database: {build}")
print("start-up with it (integrity = size): " + ", ".join(f"{ms} ms, RSS {rss} KiB" for ms, rss in starts))
name = f"{out}/allowlist-{time.strftime('%Y%m%d-%H%M%S')}.json"
json.dump(dict(cpus=cpus, kernel=kernel, rounds=len(next(iter(rows.values()))), results=table,
               full_database=build, startups=[dict(ms=ms, rss_kib=rss) for ms, rss in starts], hash_flood=flood_table),
          open(name, "w"), indent=1)
print(f"written: {name}")
PY
