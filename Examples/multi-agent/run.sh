#!/usr/bin/env bash
# A cluster on one machine: one master, three agents (attributes rack:r1, rack:r2, rack:r3, each with its own work
# dir and port range) and the GitOps reconciler following a git repository made from ./manifests. Prints where
# each app's instances landed, then keeps running until Ctrl-C (or, with --once, stops at once). On exit every
# process it started is stopped by PID and the tasks are killed.
#
#   run.sh [--once] [--keep]
#
#   --once   deploy, show the placement, check it, stop (exit 1 if the placement is not as the manifests ask)
#   --keep   keep the work directory (logs, sandboxes) afterwards
#
# Environment: CAPSTAN (the binary; default: capstan on PATH, else this checkout's .build/debug/capstan),
# PORT_BASE (default 5150: master PORT_BASE, agents +1..+3, reconciler +4, all on 127.0.0.1),
# WORK (default: a new directory under /tmp).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
once=0 keep=0
for arg in "$@"; do
    case $arg in
        --once) once=1 ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg' (see --help)" >&2; exit 1 ;;
    esac
done

capstan=${CAPSTAN:-$(command -v capstan || echo "$here/../../.build/debug/capstan")}
[ -x "$capstan" ] || { echo "run.sh: no capstan binary (build it with 'swift build' or set CAPSTAN)" >&2; exit 1; }
command -v git >/dev/null || { echo "run.sh: git is needed" >&2; exit 1; }
base=${PORT_BASE:-5150}
master=127.0.0.1:$base
reconciler=127.0.0.1:$((base + 4))
work=${WORK:-$(mktemp -d /tmp/capstan-multi-agent-XXXXXX)}
mkdir -p "$work"
echo "work dir: $work"

pids=()    # master first, then agents, then the reconciler
sleeper=
cleanup() {
    trap - EXIT INT TERM
    echo
    echo "stopping…"
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    # The reconciler first, so that nothing replaces the tasks killed next.
    stop "${pids[@]:4:1}"
    # `capstan agent` leaves its tasks running when it stops (a restarted agent recovers them), so kill the tasks
    # first: each agent's GET_CONTAINERS names their PIDs.
    local task_pids=()
    for i in 1 2 3; do
        task_pids+=($(curl -s -m 5 -H 'Content-Type: application/json' -d '{"type":"GET_CONTAINERS"}' \
            "http://127.0.0.1:$((base + i))/api/v1" | grep -o '"executor_pid":[0-9]*' | cut -d: -f2))
    done
    stop "${task_pids[@]}"
    stop "${pids[@]:1:3}"
    stop "${pids[@]:0:1}"
    if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
# SIGTERM, then SIGKILL whatever still runs after 10 s.
stop() {
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The GitOps repository: ./manifests committed to a fresh repository.
repo=$work/repo
mkdir -p "$repo"
cp "$here"/manifests/*.yaml "$repo"/
git -C "$repo" init -q -b main
git -C "$repo" add .
git -C "$repo" -c user.name=example -c user.email=example@capstan.invalid commit -q -m "multi-agent example"
openssl rand -hex 20 >"$work/webhook-secret" 2>/dev/null || date +%s%N | sha256sum | cut -c1-40 >"$work/webhook-secret"

# Agents authenticate to the master: one principal and secret per agent, all listed in the master's file.
: >"$work/agent-credentials"
for i in 1 2 3; do
    secret=$(openssl rand -hex 24)
    echo "agent-$i $secret" >>"$work/agent-credentials"
    echo "agent-$i $secret" >"$work/agent-$i.credential"
done
chmod 600 "$work"/agent-credentials "$work"/agent-*.credential

"$capstan" master --listen "$master" --work-dir "$work/master" --agent-credentials "$work/agent-credentials" \
    >"$work/master.log" 2>&1 &
pids+=($!)
for i in 1 2 3; do
    first=$((31000 + 100 * i))
    "$capstan" agent --master "$master" --listen "127.0.0.1:$((base + i))" --work-dir "$work/agent-$i" \
        --credential "$work/agent-$i.credential" \
        --attributes "rack:r$i" --resources "cpus:1;mem:512;disk:512;ports:[$first-$((first + 19))]" \
        >"$work/agent-$i.log" 2>&1 &
    pids+=($!)
done
"$capstan" reconcile --master "$master" --listen "$reconciler" --work-dir "$work/reconciler" \
    --repo "$repo" --branch main --interval 5s --webhook-secret-file "$work/webhook-secret" \
    >"$work/reconciler.log" 2>&1 &
pids+=($!)
echo "master $master (pid ${pids[0]}), agents 127.0.0.1:$((base + 1))-$((base + 3)) (pids ${pids[*]:1:3}), reconciler $reconciler (pid ${pids[4]})"

# Wait until every app is Synced (`capstan status` exits 0).
synced=0
for _ in $(seq 1 120); do
    if "$capstan" status --master "$master" >/dev/null 2>&1; then synced=1; break; fi
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "run.sh: process $pid exited; see the logs in $work" >&2; keep=1; exit 1; }
    done
    sleep 0.5
done
"$capstan" status --master "$master"
[ $synced = 1 ] || { echo "run.sh: not synced after 60 s; logs in $work" >&2; keep=1; exit 1; }

# Where the instances landed: the master's tasks with their agents' racks (python3 reads the JSON).
echo
command -v python3 >/dev/null || { echo "run.sh: python3 is needed to show the placement" >&2; exit 1; }
placement=$(curl -s -H 'Content-Type: application/json' -d '{"type":"GET_STATE"}' "http://$master/api/v1" | python3 -c '
import collections, json, sys
state = json.load(sys.stdin)["get_state"]
racks = {}
for agent in state["get_agents"].get("agents", []):
    info = agent["agent_info"]
    racks[info["id"]["value"]] = {a["name"]: a.get("text", {}).get("value") for a in info.get("attributes", [])}.get("rack", "?")
counts = collections.defaultdict(collections.Counter)
for task in state["get_tasks"].get("tasks", []):
    if task["state"] == "TASK_RUNNING":
        counts[task["name"]][racks.get(task["agent_id"]["value"], "?")] += 1
for app in sorted(counts):
    print(app, " ".join(f"{rack}={n}" for rack, n in sorted(counts[app].items())))
')
echo "running instances per rack:"
echo "$placement" | sed 's/^/  /'

# The manifests ask: spread one on each of r1, r2, r3; batch two on each of r1 and r2.
if [ "$(echo "$placement" | grep '^spread ')" = "spread r1=1 r2=1 r3=1" ] && [ "$(echo "$placement" | grep '^batch ')" = "batch r1=2 r2=2" ]; then
    echo "placement as the constraints ask"
    ok=0
else
    echo "run.sh: unexpected placement" >&2
    ok=1
fi
[ $once = 1 ] && exit $ok

cat <<EOF

Try:
  $capstan status --master $master
  edit a manifest in $repo and commit it: the reconciler applies it within 5 s
  curl -s -H 'Content-Type: application/json' -d '{"type":"GET_TASKS"}' http://$master/api/v1
Ctrl-C stops everything.
EOF
sleep infinity &
sleeper=$!
wait $sleeper
