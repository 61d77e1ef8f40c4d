#!/usr/bin/env bash
# Runs the pymesos 0.3.15 compatibility test against a fresh `capstan up`.
#
#   Tests/Compat/run.sh [PORT_BASE [TIMEOUT_SECONDS]]
#
# The master listens on 127.0.0.1:PORT_BASE and the agent on 127.0.0.1:PORT_BASE+1;
# tasks get ports PORT_BASE+2..PORT_BASE+11 (all must be free). Without PORT_BASE
# (or with 0) a free range is picked. Uses $CAPSTAN (or $CAPSTAN_BINARY, or
# .build/debug/capstan, built with `swift build` when missing) and $PYTHON or
# python3, installing pymesos with scripts/install-pymesos.sh when needed.
# Exits with the scheduler's status (0 = every check passed). Capstan is
# stopped with SIGINT (by PID) however the script ends; its log and the
# executor sandboxes are printed when the test fails. CAPSTAN_KEEP_TEST_DIRS=1
# keeps the work dir (capstan.log, sandboxes) even when the test passes.
set -uo pipefail

PORT_BASE=${1:-0}
TIMEOUT=${2:-60}
if ! [[ "$PORT_BASE" =~ ^[0-9]+$ ]] || ! [[ "$TIMEOUT" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [PORT_BASE [TIMEOUT_SECONDS]]" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
CAPSTAN="${CAPSTAN:-${CAPSTAN_BINARY:-$ROOT/.build/debug/capstan}}"
if [ "$PORT_BASE" = 0 ]; then
    # Twelve consecutive loopback ports that are free right now.
    PORT_BASE="$("$PYTHON" - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 32000)
    socks = []
    try:
        for port in range(base, base + 12):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
)"
    [ -n "$PORT_BASE" ] || { echo "run.sh: found no free port range" >&2; exit 1; }
fi
MASTER_PORT=$PORT_BASE
AGENT_PORT=$((PORT_BASE + 1))
TASK_PORTS="$((PORT_BASE + 2))-$((PORT_BASE + 11))"

if [ ! -x "$CAPSTAN" ]; then
    (cd "$ROOT" && swift build --product capstan) || { echo "run.sh: swift build failed" >&2; exit 1; }
fi
PYTHON="$PYTHON" "$ROOT/scripts/install-pymesos.sh" >/dev/null || {
    echo "run.sh: could not install pymesos" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/capstan-pymesos.XXXXXX")"
LOG="$WORK/capstan.log"
CAPSTAN_PID=""
SCHEDULER_PID=""
STATUS=1

sandbox_pids() {
    # Executors and tasks that this run's agent started (they have our sandbox in their environment).
    local pid
    for pid in $(ls /proc 2>/dev/null | grep -E '^[0-9]+$'); do
        if { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -q "^MESOS_SANDBOX=$WORK/"; then
            echo "$pid"
        fi
    done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SCHEDULER_PID" ] && kill -0 "$SCHEDULER_PID" 2>/dev/null; then
        kill -TERM "$SCHEDULER_PID" 2>/dev/null
        wait "$SCHEDULER_PID" 2>/dev/null
    fi
    if [ -n "$CAPSTAN_PID" ] && kill -0 "$CAPSTAN_PID" 2>/dev/null; then
        kill -INT "$CAPSTAN_PID" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$CAPSTAN_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$CAPSTAN_PID" 2>/dev/null; then
            echo "run.sh: capstan ($CAPSTAN_PID) did not stop within 10s of SIGINT; killing it (test fails)" >&2
            grep -E '^(State|SigIgn|SigCgt|SigBlk)' "/proc/$CAPSTAN_PID/status" >&2 2>/dev/null
            STATUS=1
            kill -KILL "$CAPSTAN_PID" 2>/dev/null
        fi
        wait "$CAPSTAN_PID" 2>/dev/null
    fi
    local leftover
    leftover="$(sandbox_pids)"
    if [ -n "$leftover" ]; then
        echo "run.sh: killing processes left in the sandbox: $(echo $leftover)" >&2
        kill -KILL $leftover 2>/dev/null
    fi
    if [ "$STATUS" = 0 ] && [ "$rc" = 0 ] && [ "${CAPSTAN_KEEP_TEST_DIRS:-0}" = 1 ]; then
        echo "run.sh: work dir kept: $WORK" >&2
    elif [ "$STATUS" != 0 ] || [ "$rc" != 0 ]; then
        echo "----- capstan log (last 80 lines): $LOG" >&2
        tail -n 80 "$LOG" >&2 2>/dev/null
        find "$WORK" -type f \( -name stderr -o -name stdout \) 2>/dev/null | while read -r f; do
            echo "----- $f" >&2
            tail -n 30 "$f" >&2
        done
        echo "----- work dir kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$STATUS"
}
trap cleanup EXIT
trap 'STATUS=130; exit 130' INT TERM

# --no-reconciler: this checks the Mesos API alone; the demo apps of Manifests/ would take the agent's resources and
# free them at times of their own (the welcome job), which offers them anew within pymesos's refuse_seconds.
# Frameworks authenticate (HTTP Basic, as pymesos sends it with principal and secret).
PYMESOS_PRINCIPAL=pymesos-compat
PYMESOS_SECRET="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(16))')"
printf '%s %s\n' "$PYMESOS_PRINCIPAL" "$PYMESOS_SECRET" >"$WORK/credentials"
chmod 600 "$WORK/credentials"
"$CAPSTAN" up --no-reconciler --work-dir "$WORK/capstan" --authenticate-frameworks --credentials "$WORK/credentials" \
    --listen "127.0.0.1:$MASTER_PORT" --agent-listen "127.0.0.1:$AGENT_PORT" --heartbeat-interval 1secs \
    --resources "cpus:2;mem:1024;disk:2048;ports:[$TASK_PORTS]" >"$LOG" 2>&1 &
CAPSTAN_PID=$!

# Wait until the master answers and the agent has registered with it.
ready=""
for _ in $(seq 1 150); do
    if ! kill -0 "$CAPSTAN_PID" 2>/dev/null; then
        echo "run.sh: capstan exited early" >&2
        exit 1
    fi
    if "$PYTHON" - "$MASTER_PORT" <<'PY' 2>/dev/null; then
import json, sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/api/v1" % sys.argv[1],
                             data=b'{"type":"GET_AGENTS"}',
                             headers={"Content-Type": "application/json", "Accept": "application/json"})
agents = json.load(urllib.request.urlopen(req, timeout=2))["get_agents"].get("agents", [])
sys.exit(0 if agents else 1)
PY
        ready=1
        break
    fi
    sleep 0.2
done
if [ -z "$ready" ]; then
    echo "run.sh: capstan did not come up with an agent on 127.0.0.1:$MASTER_PORT within 30s" >&2
    exit 1
fi

# The master really requires the credentials pymesos is given: an anonymous SUBSCRIBE is refused with 401.
if "$PYTHON" - "$MASTER_PORT" <<'PY'; then
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:%s/api/v1/scheduler" % sys.argv[1],
                             data=b'{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"anon"}}}',
                             headers={"Content-Type": "application/json", "Accept": "application/json"})
try:
    urllib.request.urlopen(req, timeout=5)
except urllib.error.HTTPError as error:
    sys.exit(0 if error.code == 401 else 1)
sys.exit(1)
PY
    printf 'PASS %-32s %s\n' anonymous_subscribe_refused "SUBSCRIBE without credentials answered 401"
else
    printf 'FAIL %-32s %s\n' anonymous_subscribe_refused "SUBSCRIBE without credentials was not answered 401"
    exit 1
fi

# In the background, so that a signal to this script is handled at once (bash defers traps while a
# foreground child runs).
PYMESOS_PRINCIPAL="$PYMESOS_PRINCIPAL" PYMESOS_SECRET="$PYMESOS_SECRET" PYMESOS_COMPAT_EXPECT_HEARTBEAT=1 "$PYTHON" "$ROOT/Tests/Compat/pymesos_scheduler.py" "127.0.0.1:$MASTER_PORT" "$TIMEOUT" &
SCHEDULER_PID=$!
wait "$SCHEDULER_PID"
STATUS=$?
SCHEDULER_PID=""

# TEARDOWN made the agent send SHUTDOWN to the pymesos executor, which must get to run its
# shutdown callback (Mesos kills an executor only after the shutdown grace period).
if [ "$STATUS" = 0 ]; then
    marker=""
    for _ in $(seq 1 50); do
        marker="$(find "$WORK" -path '*/executors/pymesos-executor-*' -name pymesos-shutdown-callback 2>/dev/null | head -n 1)"
        [ -n "$marker" ] && break
        sleep 0.2
    done
    if [ -n "$marker" ]; then
        printf 'PASS %-32s %s\n' executor_shutdown "the executor's shutdown callback ran after TEARDOWN"
    else
        printf 'FAIL %-32s %s\n' executor_shutdown "no shutdown callback: the executor was killed before it handled SHUTDOWN"
        STATUS=1
    fi
fi
# Persistent volumes from pymesos: RESERVE, CREATE, LAUNCH, the volume in the next offer, DESTROY, UNRESERVE.
if [ "$STATUS" = 0 ]; then
    PYMESOS_PRINCIPAL="$PYMESOS_PRINCIPAL" PYMESOS_SECRET="$PYMESOS_SECRET" "$PYTHON" "$ROOT/Tests/Compat/pymesos_volumes.py" "127.0.0.1:$MASTER_PORT" "$TIMEOUT" &
    SCHEDULER_PID=$!
    wait "$SCHEDULER_PID"
    STATUS=$?
    SCHEDULER_PID=""
fi
exit "$STATUS"
