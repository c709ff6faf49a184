set -eu
BIN=$1; W=$2; T=$3; N=$4; HOGS=${5:-2}
. /work/main/bench/common.sh
setup ctx 1g
"$WORK/openbench" create 1 "$D" 2000 >/dev/null
sed "s|@ROOT@|$D|g" "$SRC/bench/bench.policy" > "$WORK/policy"; chmod 644 "$WORK/policy"
${NICE:-} "$BIN" run --policy "$WORK/policy" --log-target stderr > "$WORK/agent.out" 2>&1 & AGENT=$!
for _ in $(seq 100); do grep -q started: "$WORK/agent.out" && break; sleep 0.05; done
"$WORK/openbench" "$W" "$T" "$D" 2000 > /dev/null
H=(); for _ in $(seq $HOGS); do sh -c 'while :; do :; done' & H+=($!); done
snap() { for t in /proc/$AGENT/task/*; do echo "$(cat $t/comm) $(awk '/^voluntary/ {v=$2} /^nonvoluntary/ {n=$2} END {print v, n}' $t/status) $(awk '{print $14+$15}' $t/stat)"; done; }
snap > $WORK/a
"$WORK/openbench" "$W" "$T" "$D" "$N"
snap > $WORK/b
kill ${H[@]}; wait ${H[@]} 2>/dev/null || true
paste $WORK/a $WORK/b | awk -v n=$N '{printf "%-22s vol/ev %.2f  invol/ev %.2f  cpu_ticks %d\n", $1, ($6-$2)/n, ($7-$3)/n, $8-$4}'
kill $AGENT; wait $AGENT || true
