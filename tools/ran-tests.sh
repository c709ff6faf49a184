#!/usr/bin/env bash
# tools/ran-tests.sh COUNT LOG: exit 0 when XCTest's summary in LOG says at
# least COUNT tests ran with no failure, else say what it says and exit 1.
# make test's fs-verity step in the VM checks its run with it: a test filter
# that matched nothing, or tests that all skipped, would otherwise pass.
set -u
[ $# -eq 2 ] || { echo "usage: tools/ran-tests.sh COUNT LOG" >&2; exit 2; }
want=$1 log=$2
line=$(tr -d '\r' < "$log" | grep -E '^[[:space:]]*Executed [0-9]+ tests?, with ' | tail -1)
ran=$(echo "$line" | sed -nE 's/^[[:space:]]*Executed ([0-9]+) tests?, with .*/\1/p')
failed=$(echo "$line" | sed -nE 's/.* ([0-9]+) failures?.*/\1/p')
skipped=$(echo "$line" | sed -nE 's/.*with ([0-9]+) tests? skipped.*/\1/p')
if [ -z "$line" ] || [ "${ran:-0}" -lt "$want" ] || [ "${failed:-1}" -ne 0 ] || [ "$(( ${ran:-0} - ${skipped:-0} ))" -lt "$want" ]; then
    echo "ran-tests: $log: expected $want tests to run and pass, found: ${line:-no XCTest summary}" >&2
    exit 1
fi
echo "ran-tests: $ran tests ran in $log, none failed or skipped"
