#!/usr/bin/env bash
# The fault-injection suite on its own: every scenario of issue 15 against real processes (root; etcd from Debian's
# etcd-server, started by the tests on 127.0.0.1; agents in network namespaces the tests create). Each scenario prints
# one or more "fault NAME: ..." lines with what it counted, and asserts zero lost and zero duplicated.
# scripts/test.sh runs the same tests inside the whole suite and prints these lines at its end.
# Usage: scripts/fault-suite.sh   (after `swift build --build-tests`)
set -euo pipefail
cd "$(dirname "$0")/.."

scenarios=(
    twentyContainersSurviveAnAgentSIGKILL      # agent SIGKILL with 20 running containers
    truncatedCheckpointIsRefusedWithItsPath    # a checkpoint truncated on disk
    reconcilerWaitsForRecoveringAgents         # master SIGKILL on SQLite, restart
    electionRedirectsAndFailover               # three masters on etcd, SIGKILL the leader
    reconcilerFollowsTheLeader                 # ... with the reconciler following through etcd://
    pausedLeaderIsFenced                       # SIGSTOP the leader past its lease, SIGCONT
    cutAgentIsReplacedAndHealedToExactlyInstances  # an agent's netns link cut, healed
    restartMidRollout                          # reconciler SIGKILL mid-rollout
)
filter=$(IFS='|'; echo "${scenarios[*]}")
log=$(mktemp /tmp/capstan-fault-suite-XXXXXX.log)
status=0
CAPSTAN_TEST_STRICT=${CAPSTAN_TEST_STRICT:-1} CAPSTAN_BINARY="$PWD/.build/debug/capstan" \
    swift test --skip-build --filter "$filter" >"$log" 2>&1 &
tests=$!
tail -n +1 -f --pid="$tests" "$log"   # followed, not piped: a leaked process could hold a pipe open
wait "$tests" || status=$?
echo "== fault suite: what each scenario counted"
grep -E '^fault [a-z-]+:' "$log" || { echo "no scenario printed its counts" >&2; status=1; }
rm -f "$log"
exit "$status"
