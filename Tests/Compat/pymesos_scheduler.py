#!/usr/bin/env python3
"""Compatibility test: a framework written with pymesos 0.3.15 against Capstan.

Usage: pymesos_scheduler.py MASTER_HOST:PORT [TIMEOUT_SECONDS]

The scheduler (pymesos MesosSchedulerDriver, implicit acknowledgements on):
  * subscribes;
  * declines its first offer with refuse_seconds and checks the agent is not
    re-offered before the filter expires;
  * on the next offer launches, in one ACCEPT:
      cmd   - a command task `echo hello; sleep 1`
      exec  - a task on a custom executor (pymesos_executor.py, a pymesos
              MesosExecutorDriver) that exchanges framework messages both ways
      long  - `sleep 300`, used for reconciliation and KILL;
  * checks TASK_RUNNING then TASK_FINISHED for cmd and exec (pymesos ACKNOWLEDGEs
    each update carrying a uuid; the agent only forwards the next update of a
    task once the previous one was acknowledged, so FINISHED after RUNNING
    proves the acknowledgements worked);
  * reconciles the long task explicitly and then implicitly, then kills it and
    expects TASK_KILLED;
  * tears down (driver.stop()) and checks the master lists the framework as
    completed;
  * with PYMESOS_COMPAT_EXPECT_HEARTBEAT=1, also expects a HEARTBEAT event.
Exit status 0 when every check passed; 1 with a FAIL line otherwise (also after
the timeout, 60 s by default).
"""
import getpass
import json
import logging
import os
import shlex
import socket
import sys
import threading
import time

from addict import Dict
from pymesos import MesosOperatorMasterDriver, MesosSchedulerDriver, Scheduler, decode_data, encode_data

HERE = os.path.dirname(os.path.abspath(__file__))
EXECUTOR_SCRIPT = os.path.join(HERE, "pymesos_executor.py")
REFUSE_SECONDS = 3.0
log = logging.getLogger("pymesos-compat")


def scalar(name, value):
    return dict(name=name, type="SCALAR", scalar=dict(value=value))


def offered(offer, name):
    return sum(r.scalar.value for r in offer.resources if r.name == name and r.type == "SCALAR")


class Checks(object):
    """Named checks, each passed or failed once; prints one summary line per check."""

    ORDER = [
        "subscribe", "decline_refuse_seconds", "launch",
        "cmd_running", "cmd_finished",
        "executor_registered_running", "executor_message_to_scheduler",
        "scheduler_message_to_executor", "executor_finished",
        "acknowledgements", "reconcile_explicit", "reconcile_implicit",
        "kill", "teardown",
    ]

    def __init__(self, expect_heartbeat=False):
        if expect_heartbeat:
            self.ORDER = self.ORDER[:1] + ["heartbeat"] + self.ORDER[1:]
        self.lock = threading.Lock()
        self.results = {}
        self.done = threading.Event()
        self.failed = threading.Event()

    def ok(self, name, detail=""):
        with self.lock:
            if name in self.results:
                return
            self.results[name] = (True, detail)
        print("PASS %-32s %s" % (name, detail), flush=True)

    def fail(self, name, detail):
        with self.lock:
            if name in self.results and not self.results[name][0]:
                return
            self.results[name] = (False, detail)
        print("FAIL %-32s %s" % (name, detail), flush=True)
        self.failed.set()

    def passed(self, name):
        with self.lock:
            return self.results.get(name, (False,))[0]

    def scheduler_part_done(self):
        with self.lock:
            return all(self.results.get(n, (False,))[0] for n in self.ORDER if n != "teardown")

    def report(self):
        missing = [n for n in self.ORDER if n not in self.results]
        for name in missing:
            print("FAIL %-32s %s" % (name, "never happened"), flush=True)
        return not missing and all(ok for ok, _ in self.results.values())


class CompatScheduler(Scheduler):
    def __init__(self, checks):
        self.checks = checks
        self.framework_id = None
        self.lock = threading.Lock()
        self.declined_at = None
        self.launched = False
        self.task_ids = {}
        self.states = {"cmd": [], "exec": [], "long": []}
        self.acked = 0
        self.reconcile_phase = None
        self.executor_agent = None

    # --- registration -----------------------------------------------------
    def registered(self, driver, framework_id, master_info):
        self.framework_id = framework_id.value
        self.checks.ok("subscribe", "framework_id=%s master=%s:%s version=%s" % (
            framework_id.value, master_info.hostname, master_info.port, master_info.get("version")))

    def reregistered(self, driver, master_info):
        log.info("reregistered with %s", master_info)

    def disconnected(self, driver):
        log.info("disconnected")

    def error(self, driver, message):
        self.checks.fail("scheduler_error", "master sent ERROR: %s" % message)

    def processHeartBeat(self, driver):
        self.checks.ok("heartbeat", "HEARTBEAT event on the subscription stream")
        self.maybe_done()

    # --- offers -----------------------------------------------------------
    def resourceOffers(self, driver, offers):
        with self.lock:
            for offer in offers:
                self.handle_offer(driver, offer)

    def handle_offer(self, driver, offer):
        log.debug("offer %s", json.dumps(offer, sort_keys=True))
        now = time.time()
        if self.declined_at is None:
            self.declined_at = now
            self.declined_agent = offer.agent_id.value
            driver.declineOffer(offer.id, dict(refuse_seconds=REFUSE_SECONDS))
            log.info("declined offer %s for %ss", offer.id.value, REFUSE_SECONDS)
            return
        if not self.launched:
            waited = now - self.declined_at
            if offer.agent_id.value == self.declined_agent and waited < REFUSE_SECONDS - 0.5:
                self.checks.fail("decline_refuse_seconds",
                                 "agent re-offered after %.1fs despite refuse_seconds=%s" % (waited, REFUSE_SECONDS))
            else:
                self.checks.ok("decline_refuse_seconds", "re-offered after %.1fs (refuse_seconds=%s)" % (waited, REFUSE_SECONDS))
            cpus, mem = offered(offer, "cpus"), offered(offer, "mem")
            if cpus < 0.5 or mem < 160:
                self.checks.fail("launch", "offer too small: cpus=%s mem=%s" % (cpus, mem))
                return
            self.launch(driver, offer)
            return
        # Everything is launched: turn further offers down for a while.
        driver.declineOffer(offer.id, dict(refuse_seconds=30))

    def launch(self, driver, offer):
        suffix = "%d" % int(time.time() * 1000)
        self.task_ids = {"cmd": "cmd-" + suffix, "exec": "exec-" + suffix, "long": "long-" + suffix}
        self.by_task = {v: k for k, v in self.task_ids.items()}
        python = sys.executable or "python3"
        executor = dict(
            executor_id=dict(value="pymesos-executor-" + suffix),
            framework_id=dict(value=self.framework_id),
            name="pymesos compat executor",
            command=dict(value="%s %s" % (shlex.quote(python), shlex.quote(EXECUTOR_SCRIPT))),
            resources=[scalar("cpus", 0.1), scalar("mem", 32)],
        )
        self.executor_id = executor["executor_id"]["value"]
        tasks = [
            dict(name="pymesos cmd", task_id=dict(value=self.task_ids["cmd"]), agent_id=offer.agent_id,
                 resources=[scalar("cpus", 0.1), scalar("mem", 32)],
                 command=dict(value="echo hello; sleep 1")),
            dict(name="pymesos exec", task_id=dict(value=self.task_ids["exec"]), agent_id=offer.agent_id,
                 resources=[scalar("cpus", 0.1), scalar("mem", 32)],
                 executor=executor, data=encode_data(b"task-data")),
            dict(name="pymesos long", task_id=dict(value=self.task_ids["long"]), agent_id=offer.agent_id,
                 resources=[scalar("cpus", 0.1), scalar("mem", 32)],
                 command=dict(value="sleep 300")),
        ]
        driver.launchTasks(offer.id, tasks, dict(refuse_seconds=30))
        self.launched = True
        self.checks.ok("launch", "3 tasks on agent %s (offer %s)" % (offer.agent_id.value, offer.id.value))

    def offerRescinded(self, driver, offer_id):
        log.info("offer rescinded: %s", offer_id.value)

    # --- status updates ---------------------------------------------------
    def statusUpdate(self, driver, status):
        task_id = status.task_id.value
        kind = getattr(self, "by_task", {}).get(task_id)
        log.debug("status %s", json.dumps(status, sort_keys=True))
        log.info("update %s %s reason=%s uuid=%s source=%s message=%s", task_id, status.state,
                 status.get("reason"), "uuid" in status, status.get("source"), status.get("message"))
        if kind is None:
            self.checks.fail("unexpected_update", "update for unknown task %s: %s" % (task_id, status.state))
            return
        if "uuid" in status:
            # pymesos acknowledges this update right after we return (implicit acknowledgements).
            self.acked += 1
        for key in ("agent_id", "timestamp"):
            if key not in status:
                self.checks.fail("update_fields", "update for %s lacks '%s': %s" % (task_id, key, dict(status)))
        reason = status.get("reason")
        if reason == "REASON_RECONCILIATION":
            self.reconciled(driver, kind, status)
            return
        self.states[kind].append(status.state)
        state = status.state
        if kind in ("cmd", "exec"):
            prefix = "cmd" if kind == "cmd" else "executor"
            if state == "TASK_RUNNING":
                name = "cmd_running" if kind == "cmd" else "executor_registered_running"
                self.checks.ok(name, "%s is TASK_RUNNING (source=%s)" % (task_id, status.get("source")))
            elif state == "TASK_FINISHED":
                seen = [s for s in self.states[kind] if s != "TASK_STARTING"]
                if seen != ["TASK_RUNNING", "TASK_FINISHED"]:
                    self.checks.fail(prefix + "_finished", "%s states %s, expected RUNNING before FINISHED" % (task_id, self.states[kind]))
                else:
                    self.checks.ok(prefix + "_finished", "%s: %s" % (task_id, " -> ".join(self.states[kind])))
                if kind == "exec":
                    data = status.get("data")
                    if data and decode_data(data) != b"executor-result":
                        self.checks.fail("executor_finished", "update data was %r" % decode_data(data))
            elif state not in ("TASK_STARTING",):
                self.checks.fail(prefix + "_finished", "%s reached %s: %s (%s)" % (
                    task_id, state, status.get("message"), status.get("reason")))
        elif kind == "long":
            if state == "TASK_RUNNING" and self.reconcile_phase is None:
                self.reconcile_phase = "explicit"
                driver.reconcileTasks([dict(task_id=status.task_id)])
            elif state == "TASK_KILLED":
                if self.reconcile_phase == "killing":
                    self.checks.ok("kill", "%s: %s" % (task_id, " -> ".join(self.states[kind])))
                else:
                    self.checks.fail("kill", "%s killed before we asked (%s)" % (task_id, status.get("message")))
            elif state not in ("TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"):
                self.checks.fail("kill", "%s reached %s: %s" % (task_id, state, status.get("message")))
        self.maybe_done()

    def reconciled(self, driver, kind, status):
        if kind != "long":
            return  # implicit reconciliation also reports the other tasks; fine
        if status.state != "TASK_RUNNING":
            self.checks.fail("reconcile_" + (self.reconcile_phase or "?"),
                             "long task reconciled as %s" % status.state)
            return
        if self.reconcile_phase == "explicit":
            self.checks.ok("reconcile_explicit", "%s TASK_RUNNING (REASON_RECONCILIATION)" % status.task_id.value)
            self.reconcile_phase = "implicit"
            driver.reconcileTasks([])
        elif self.reconcile_phase == "implicit":
            self.checks.ok("reconcile_implicit", "%s TASK_RUNNING (REASON_RECONCILIATION)" % status.task_id.value)
            self.reconcile_phase = "killing"
            driver.killTask(status.task_id)

    # --- framework messages -------------------------------------------------
    def frameworkMessage(self, driver, executor_id, agent_id, message):
        data = decode_data(message).decode("utf-8", "replace")
        log.info("framework message from %s: %r", executor_id.value, data)
        exec_task = self.task_ids.get("exec")
        if data == "hello:%s" % exec_task:
            self.checks.ok("executor_message_to_scheduler", "%r from %s on %s" % (data, executor_id.value, agent_id.value))
            driver.sendFrameworkMessage(executor_id, agent_id, encode_data(b"ping"))
        elif data == "pong:%s" % exec_task:
            self.checks.ok("scheduler_message_to_executor", "executor answered %r" % data)
        else:
            self.checks.fail("scheduler_message_to_executor", "unexpected framework message %r" % data)
        self.maybe_done()

    def executorLost(self, driver, executor_id, agent_id, status):
        log.info("executor %s lost on %s: status %s", executor_id.value, agent_id.value, status)

    def slaveLost(self, driver, agent_id):
        self.checks.fail("agent_lost", "agent %s lost" % agent_id.value)

    def maybe_done(self):
        if not self.checks.passed("acknowledgements") and self.checks.passed("cmd_finished") \
                and self.checks.passed("executor_finished"):
            # Four updates (RUNNING, FINISHED for two tasks) carried uuids and were acknowledged;
            # the second of each pair is only sent by the agent after the first was acknowledged.
            self.checks.ok("acknowledgements", "%d updates with uuid acknowledged implicitly by pymesos" % self.acked)
        if self.checks.scheduler_part_done():
            self.checks.done.set()


def main():
    if len(sys.argv) < 2:
        print("usage: %s MASTER_HOST:PORT [TIMEOUT_SECONDS]" % sys.argv[0], file=sys.stderr)
        return 2
    master = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    logging.basicConfig(level=os.environ.get("PYMESOS_LOGLEVEL", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    # run.sh starts capstan with --heartbeat-interval 1secs; against a default master (15 s) no HEARTBEAT is expected.
    checks = Checks(expect_heartbeat=os.environ.get("PYMESOS_COMPAT_EXPECT_HEARTBEAT") == "1")
    sched = CompatScheduler(checks)
    framework = Dict(user=getpass.getuser(), name="pymesos-compat", hostname=socket.gethostname(),
                     failover_timeout=0)
    # run.sh starts capstan with --authenticate-frameworks: pymesos sends HTTP Basic credentials.
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True,
                                  principal=os.environ.get("PYMESOS_PRINCIPAL"), secret=os.environ.get("PYMESOS_SECRET"))
    deadline = time.time() + timeout
    error = None
    try:
        driver.start()
        while not checks.done.is_set() and not checks.failed.is_set():
            if time.time() > deadline:
                error = "timed out after %.0fs" % timeout
                break
            if driver.aborted:
                error = "pymesos driver aborted (see log above)"
                break
            checks.done.wait(0.2)
    except BaseException as e:  # pymesos re-raises IO-thread failures in the main thread
        error = "pymesos raised %s: %s" % (type(e).__name__, e)
    finally:
        driver.stop()      # failover=False: pymesos sends TEARDOWN
        driver.join()
    if error:
        print("FAIL %-32s %s" % ("run", error), flush=True)

    if sched.framework_id and checks.done.is_set():
        fid = sched.framework_id
        found = None
        operator = MesosOperatorMasterDriver(master)
        for _ in range(25):
            try:
                # pymesos's operator driver (POST /api/v1/operator)
                frameworks = operator.getFrameworks()["get_frameworks"]
            except Exception as e:
                found = "GET_FRAMEWORKS failed: %s" % e
                break
            active = [f["framework_info"]["id"]["value"] for f in frameworks.get("frameworks", [])]
            completed = [f["framework_info"]["id"]["value"] for f in frameworks.get("completed_frameworks", [])]
            if fid in completed and fid not in active:
                found = True
                break
            found = "framework %s active=%s completed=%s" % (fid, fid in active, fid in completed)
            time.sleep(0.2)
        if found is True:
            checks.ok("teardown", "framework %s completed after TEARDOWN (pymesos operator GET_FRAMEWORKS)" % fid)
        else:
            checks.fail("teardown", str(found))

    ok = checks.report() and error is None
    print("%s: pymesos compatibility (%d checks)" % ("PASS" if ok else "FAIL", len(checks.results)), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
