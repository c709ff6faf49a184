#!/usr/bin/env bash
# The real-kernel tests on whatever kernel runs this: make kernels and make
# test run it inside tools/kernel-vm.sh's guests, one for each of Debian's
# kernels, and on this machine's own.
#
#   tools/kernel-tests.sh subset|all BUILD_DIR
#
# First it starts the agent (BUILD_DIR/fanfilterd) on a private tmpfs and
# prints its start line: which fanotify features this kernel has and what
# the agent does without the others. Then `subset` runs the exactly-once
# checks make test runs on every kernel (start, deny and allow an open, deny
# an execution, a timeout, an overload, a reload, a clean stop under load)
# the runtime linker named as the command (pattern=ld_so), and the kernel's
# audit records of `_audit` decisions (with FANFILTER_TEST_AUDITD=1: auditd runs);
# `all` runs every test, those that need root included. Exits with XCTest's
# status (125 when the agent did not start).
set -u
[ $# -eq 2 ] || { echo "usage: tools/kernel-tests.sh subset|all BUILD_DIR" >&2; exit 2; }
mode=$1 build=$2
case "$mode" in
    subset) filter=FanFilterTests.AllowListingKernelTests/testTheRuntimeLinkerNamedAsTheCommandLDPreloadAndLDAudit,FanFilterTests.AgentKernelTests/testDeniedOpenFailsWithEPERMAndAllowedOpenSucceeds,FanFilterTests.AgentKernelTests/testDeniedExecutionFails,FanFilterTests.ClientDecisionTests/testALateClientGetsOnTimeoutNamedInTheLog,FanFilterTests.ClientDecisionTests/testOneUsersFloodLeavesRoomForTheOthersEvents,FanFilterCLITests.ReloadCommandTests/testSIGHUPReloadsAndABrokenPolicyKeepsTheRunningOne,FanFilterCLITests.RunCommandTests/testSIGTERMUnderLoadAnswersEveryEventAndExitsZero,FanFilterTests.AuditRecordTests ;;
    all) filter= ;;
    *) echo "kernel-tests: unknown mode '$mode' (subset or all)" >&2; exit 2 ;;
esac
echo "kernel-tests: kernel $(uname -r)"

# The agent's start line on this kernel, in a private mount namespace on a tmpfs of its own.
unshare --mount --propagation private bash -c '
    work=$(mktemp -d /tmp/kernel-tests.XXXXXX) && mount -t tmpfs tmpfs "$work" || exit 125
    printf "watch = %s\nport_socket = none\nallow perm=any all : all\n" "$work" > "$work/policy"
    timeout 60 "$1" --policy "$work/policy" --log-target stderr > "$work/out" 2>&1 & agent=$!
    for _ in $(seq 300); do grep -q "started:" "$work/out" && break; sleep 0.1; done
    kill -TERM $agent 2>/dev/null; wait $agent
    line=$(grep -m1 "started:" "$work/out") || { cat "$work/out"; exit 125; }
    echo "kernel-tests: agent started; kernel: ${line##*kernel: }"
' bash "$build/fanfilterd" || { echo "kernel-tests: the agent did not start on $(uname -r)"; exit 125; }

unshare --mount --propagation private "$build/fanfilterPackageTests.xctest" $filter
