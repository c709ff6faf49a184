# Sourced by the bench scripts. setup NAME SIZE sets SRC (the project), WORK
# (a scratch folder) and D (a private tmpfs of SIZE in it, where the
# workloads run), builds the workload driver as $WORK/openbench, and removes
# it all on exit, stopping the agent whose pid is in AGENT if there is one.
setup() {
    SRC=$(cd "$(dirname "$0")/.." && pwd)
    WORK=$(mktemp -d "/tmp/fanfilter-$1.XXXXXX")
    D=$WORK/fs
    AGENT=
    mkdir -p "$D"
    mount -t tmpfs -o size="$2" tmpfs "$D"
    trap '[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null; umount -l "$D" 2>/dev/null; rm -rf "$WORK"' EXIT
    cc -O2 -pthread -o "$WORK/openbench" "$SRC/bench/openbench.c"
}

# The bench policy (bench/bench.policy) for this run's tmpfs and port socket,
# with `cache = $1` (default off), on standard output.
bench_policy() {
    sed -e "s|@ROOT@|$D|g" -e "s|@PORT@|$WORK/port|g" -e "s/^cache = off$/cache = ${1:-off}/" "$SRC/bench/bench.policy"
}

# The busy machine: BUSY processes that only compute, started for a busy
# round (start_hogs) and stopped after it (stop_hogs); their pids in HOGS.
HOGS=()
start_hogs() {
    HOGS=()
    for _ in $(seq "$BUSY"); do sh -c 'while :; do :; done' & HOGS+=($!); done
}
stop_hogs() {
    [ ${#HOGS[@]} -eq 0 ] && return
    kill "${HOGS[@]}" 2>/dev/null || true
    wait "${HOGS[@]}" 2>/dev/null || true
    HOGS=()
}

# The modes a run measures: idle, and busy unless BUSY=0; MODES chooses.
bench_modes() {
    local modes="idle"
    [ "$BUSY" -gt 0 ] && modes="idle busy"
    echo "${MODES:-$modes}"
}

# bench_rounds MEASURE: ROUNDS rounds of every mode of $modes (busy ones with
# the hogs running), calling `MEASURE ROUND MODE` for each.
bench_rounds() {
    local round mode
    for round in $(seq "$ROUNDS"); do
        for mode in $modes; do
            [ "$mode" = busy ] && start_hogs
            "$1" "$round" "$mode"
            stop_hogs
        done
        echo "round $round of $ROUNDS done" >&2
    done
}

# The agent as the service runs it: fanfilterd beside $FANFILTER (a build
# from before fanfilterd existed runs as `fanfilter run`). "${AGENTD[@]}"
# takes run's options; its pid is the agent's, for RSS and CPU.
agent_command() {
    if [ -x "$(dirname "$2")/fanfilterd" ]; then eval "$1=(\"\$(dirname \"\$2\")/fanfilterd\")"
    else eval "$1=(\"\$2\" run)"; fi
}
agent_command AGENTD "$FANFILTER"
# (an if, not an &&: the last command of a file sourced under set -e must not fail)
if [ -n "${FANFILTER_BEFORE:-}" ]; then agent_command AGENTD_BEFORE "$FANFILTER_BEFORE"; fi
