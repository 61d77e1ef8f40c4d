#!/usr/bin/env bash
# Three masters on one etcd (Debian's etcd-server, started here on 127.0.0.1 with a temporary data dir) and one agent
# that knows all three. Each master runs under a small supervisor loop that restarts it when it exits (a leader that
# loses its etcd lease exits 75, as a Mesos master aborts). Prints which master leads, then keeps running until Ctrl-C;
# with --failover it SIGKILLs the leader, prints how long the election of the next one took, and stops.
#
#   run.sh [--failover] [--keep]
#
# Environment: CAPSTAN (the binary; default: capstan on PATH, else this checkout's .build/debug/capstan),
# PORT_BASE (default 5250: masters PORT_BASE..+2, agent +3, etcd client +4 and peer +5, all on 127.0.0.1),
# TTL (the leader's lease in seconds, default 3), WORK (default: a new directory under /tmp).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
failover=0 keep=0
for arg in "$@"; do
    case $arg in
        --failover) failover=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg' (see --help)" >&2; exit 1 ;;
    esac
done

capstan=${CAPSTAN:-$(command -v capstan || echo "$here/../../.build/debug/capstan")}
[ -x "$capstan" ] || { echo "run.sh: no capstan binary (build it with 'swift build' or set CAPSTAN)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "run.sh: etcd is needed (apt-get install etcd-server)" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl is needed" >&2; exit 1; }
base=${PORT_BASE:-5250}
ttl=${TTL:-3}
etcd_url=http://127.0.0.1:$((base + 4))
peer_url=http://127.0.0.1:$((base + 5))
masters=(127.0.0.1:$base 127.0.0.1:$((base + 1)) 127.0.0.1:$((base + 2)))
work=${WORK:-$(mktemp -d /tmp/capstan-ha-etcd-XXXXXX)}
mkdir -p "$work"
echo "work dir: $work"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done   # supervisors first: they stop their master
    wait 2>/dev/null
    [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

etcd --name ha-example --data-dir "$work/etcd" --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" --initial-cluster "ha-example=$peer_url" \
    >"$work/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "$etcd_url/health" >/dev/null && break; sleep 0.2; done

# supervise N: runs master N, restarting it whenever it exits, until this loop is killed.
supervise() {
    local n=$1 child=
    trap '[ -n "$child" ] && kill "$child" 2>/dev/null; wait; exit 0' TERM
    while true; do
        "$capstan" master --insecure --listen "${masters[$n]}" --work-dir "$work/master-$n" --etcd "$etcd_url" \
            --etcd-lease-ttl "$ttl" >>"$work/master-$n.log" 2>&1 &
        child=$!
        echo "$child" >"$work/master-$n.pid"
        wait "$child"
        echo "master ${masters[$n]} exited ($?); restarting it as a follower" >>"$work/master-$n.log"
        sleep 1
    done
}
for n in 0 1 2; do supervise "$n" & pids+=($!); done

# The leader is the master whose /redirect names itself (any master's /redirect names the leader).
leader() {
    local m location
    for m in "${masters[@]}"; do
        location=$(curl -s -m 1 -o /dev/null -w '%{redirect_url}' "http://$m/redirect") || continue
        [ -n "$location" ] && { echo "${location#http://}" | cut -d/ -f1; return 0; }
    done
    return 1
}
wait_leader() {   # wait_leader [NOT]: prints the leader once there is one other than NOT
    for _ in $(seq 300); do
        l=$(leader) && [ "$l" != "${1:-}" ] && { echo "$l"; return 0; }
        sleep 0.1
    done
    return 1
}

first=$(wait_leader) || { echo "run.sh: no leader elected; see $work/master-*.log" >&2; exit 1; }
echo "leader: $first (followers answer 307 to it)"
"$capstan" agent --insecure --master "$(IFS=,; echo "${masters[*]}")" --listen "127.0.0.1:$((base + 3))" \
    --work-dir "$work/agent" --resources "cpus:1;mem:256;disk:256" >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s "http://$first/state" | grep -q '"activated_slaves":1' && break; sleep 0.2; done
echo "agent registered with $first"

if [ "$failover" = 1 ]; then
    for n in 0 1 2; do [ "${masters[$n]}" = "$first" ] && victim=$(cat "$work/master-$n.pid"); done
    start=$(date +%s.%N)
    kill -9 "$victim"
    next=$(wait_leader "$first") || { echo "run.sh: no new leader; see $work/master-*.log" >&2; exit 1; }
    echo "SIGKILLed $first; new leader $next after $(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?') s (lease TTL ${ttl}s)"
    for _ in $(seq 150); do curl -s "http://$next/state" | grep -q '"activated_slaves":1' && break; sleep 0.2; done
    curl -s "http://$next/state" | grep -q '"activated_slaves":1' && echo "agent re-registered with $next" \
        || { echo "run.sh: the agent did not re-register; see $work/agent.log" >&2; exit 1; }
    exit 0
fi
echo "clients follow the leader through etcd: capstan status --master etcd://127.0.0.1:$((base + 4))/capstan"
echo "running; Ctrl-C stops everything"
while true; do sleep 3600; done
