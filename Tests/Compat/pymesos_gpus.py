#!/usr/bin/env python3
"""Compatibility test: GPUs for frameworks written with pymesos 0.3.15, unchanged.

Usage: pymesos_gpus.py MASTER_HOST:PORT [TIMEOUT_SECONDS]
(run by the Swift test EndToEnd.PymesosGPUTests against a master and an agent with the fake NVML)

Against a master with one agent offering 2 GPUs (gpu/nvidia, e.g. with the tests' fake NVML), two frameworks run
at once:
  * one with the GPU_RESOURCES capability gets an offer with gpus 2, launches a task using gpus 1 (refusing
    nothing), and is offered gpus 1 next;
  * one without the capability never gets an offer from that agent, and pymesos's operator driver (GET_FRAMEWORKS)
    shows it withheld there, with the reason (Capstan's `capstan_withheld_agents`).
Exit status 0 when every check passed; 1 with a FAIL line otherwise.

Note: pymesos 0.3.15 itself declares GPU_RESOURCES for every framework once the master's /version is 1.0 or later
(MesosSchedulerDriver.framework), so a pymesos framework that must not hold GPU machines drops the capability the
way DriverWithoutGPUs does.
"""
import getpass
import logging
import os
import socket
import sys
import threading
import time

from addict import Dict
from pymesos import MesosOperatorMasterDriver, MesosSchedulerDriver, Scheduler

TASK = "pymesos-gpu-task"
log = logging.getLogger("pymesos-gpus")


def scalar(name, value):
    return dict(name=name, type="SCALAR", scalar=dict(value=value))


def gpus_of(offer):
    return sum(r.get("scalar", {}).get("value", 0) for r in offer.resources if r.get("name") == "gpus")


class Checks(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.failure = None
        self.passed = []

    def ok(self, name, detail):
        with self.lock:
            self.passed.append(name)
        print("PASS %-32s %s" % (name, detail), flush=True)

    def fail(self, name, detail):
        with self.lock:
            if self.failure is None:
                self.failure = "%s: %s" % (name, detail)
        print("FAIL %-32s %s" % (name, detail), flush=True)
        self.done.set()


class GPUScheduler(Scheduler):
    """Has GPU_RESOURCES: gpus 2 first, launches on 1, then must be offered the other one."""

    def __init__(self, checks, agent_id):
        self.checks = checks
        self.agent_id = agent_id
        self.phase = "first"
        self.lock = threading.Lock()

    def resourceOffers(self, driver, offers):
        with self.lock:
            for offer in offers:
                gpus = gpus_of(offer)
                if offer.agent_id.value != self.agent_id:
                    driver.declineOffer(offer.id, dict(refuse_seconds=0))
                elif self.phase == "first":
                    if gpus != 2:
                        self.checks.fail("offered_gpus_2", "the first offer holds gpus %s, not 2: %s" % (gpus, offer.resources))
                        return
                    self.checks.ok("offered_gpus_2", "offer %s holds gpus 2" % offer.id.value)
                    task = dict(name=TASK, task_id=dict(value=TASK), agent_id=dict(value=self.agent_id),
                                resources=[scalar("cpus", 0.1), scalar("mem", 32), scalar("gpus", 1)],
                                command=dict(value="sleep 600"))
                    driver.launchTasks([offer.id], [task], dict(refuse_seconds=0))
                    self.phase = "launched"
                elif self.phase in ("launched", "running"):
                    if gpus != 1:
                        self.checks.fail("offered_gpus_1", "after the launch an offer holds gpus %s, not 1: %s" % (gpus, offer.resources))
                        return
                    self.checks.ok("offered_gpus_1", "after launching on gpus 1, offer %s holds the other GPU" % offer.id.value)
                    driver.declineOffer(offer.id, dict(refuse_seconds=3600))
                    self.phase = "offered-rest" if self.phase == "launched" else "done"
                    if self.phase == "done":
                        self.checks.done.set()
                else:
                    driver.declineOffer(offer.id, dict(refuse_seconds=3600))

    def statusUpdate(self, driver, update):
        state = update.state
        with self.lock:
            if update.task_id.value != TASK:
                return
            if state == "TASK_RUNNING" and self.phase in ("launched", "offered-rest"):
                labels = [l.get("value") for l in update.get("labels", {}).get("labels", []) if l.get("key") == "capstan.gpus"]
                self.checks.ok("task_running", "the task using gpus 1 runs (capstan.gpus: %s)" % (labels[0] if labels else "none"))
                self.phase = "running" if self.phase == "launched" else "done"
                if self.phase == "done":
                    self.checks.done.set()
            elif state in ("TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED"):
                self.checks.fail("task_running", "%s: %s" % (state, update.get("message", "")))


class PlainScheduler(Scheduler):
    """Lacks GPU_RESOURCES: must see no offer from the GPU agent."""

    def __init__(self, checks, agent_id):
        self.checks = checks
        self.agent_id = agent_id
        self.offers_seen = 0

    def resourceOffers(self, driver, offers):
        for offer in offers:
            self.offers_seen += 1
            if offer.agent_id.value == self.agent_id:
                self.checks.fail("no_offer_without_capability", "offered %s on the GPU agent: %s" % (offer.id.value, offer.resources))
            driver.declineOffer(offer.id, dict(refuse_seconds=0))


class DriverWithoutGPUs(MesosSchedulerDriver):
    """pymesos's driver, with the GPU_RESOURCES capability it adds for Mesos >= 1.0 masters taken out again."""

    @property
    def framework(self):
        framework = MesosSchedulerDriver.framework.fget(self)
        capabilities = [c for c in framework.get("capabilities", []) if c["type"] != "GPU_RESOURCES"]
        if capabilities:
            framework["capabilities"] = capabilities
        else:
            framework.pop("capabilities", None)
        return framework


def gpu_agent(master):
    operator = MesosOperatorMasterDriver(master)
    for agent in operator.getAgents()["get_agents"].get("agents", []):
        if any(r.get("name") == "gpus" for r in agent.get("total_resources", [])):
            return agent["agent_info"]["id"]["value"]
    return None


def framework(name, gpus):
    info = Dict(user=getpass.getuser(), name=name, hostname=socket.gethostname(), failover_timeout=0)
    if gpus:
        info.capabilities = [dict(type="GPU_RESOURCES")]
    return info


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    master = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    logging.basicConfig(level=os.environ.get("PYMESOS_LOGLEVEL", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    principal, secret = os.environ.get("PYMESOS_PRINCIPAL"), os.environ.get("PYMESOS_SECRET")
    agent_id = gpu_agent(master)
    if agent_id is None:
        print("FAIL %-32s %s" % ("gpu_agent", "GET_AGENTS lists no agent with gpus"), flush=True)
        return 1
    checks = Checks()
    plain = PlainScheduler(checks, agent_id)
    trainer = GPUScheduler(checks, agent_id)
    drivers = [
        DriverWithoutGPUs(plain, framework("pymesos-no-gpus", False), master, use_addict=True, principal=principal, secret=secret),
        MesosSchedulerDriver(trainer, framework("pymesos-gpus", True), master, use_addict=True, principal=principal, secret=secret),
    ]
    deadline = time.time() + timeout
    error = None
    try:
        drivers[0].start()
        time.sleep(1)  # the plain framework is alone for several allocation cycles first
        drivers[1].start()
        while not checks.done.is_set():
            if time.time() > deadline:
                error = "timed out after %.0fs in phase %s" % (timeout, trainer.phase)
                break
            if any(d.aborted for d in drivers):
                error = "a pymesos driver aborted (see log above)"
                break
            checks.done.wait(0.2)
        if checks.failure is None and error is None:
            time.sleep(1)  # a few more cycles in which the GPU agent has a free GPU
            if checks.failure is None:
                checks.ok("no_offer_without_capability",
                          "the framework without GPU_RESOURCES got no offer from agent %s (%d offers elsewhere)" % (agent_id, plain.offers_seen))
            frameworks = MesosOperatorMasterDriver(master).getFrameworks()["get_frameworks"].get("frameworks", [])
            entry = [f for f in frameworks if f["framework_info"]["name"] == "pymesos-no-gpus"]
            withheld = entry[0].get("capstan_withheld_agents", {}) if entry else {}
            if [a.get("value") for a in withheld.get("agent_ids", [])] == [agent_id] and "GPU_RESOURCES" in withheld.get("reason", ""):
                checks.ok("withheld_in_get_frameworks", "GET_FRAMEWORKS: %s" % withheld["reason"])
            else:
                checks.fail("withheld_in_get_frameworks", "GET_FRAMEWORKS does not show agent %s withheld: %s" % (agent_id, entry))
        drivers[1].killTask(dict(value=TASK))
    except BaseException as e:
        error = "pymesos raised %s: %s" % (type(e).__name__, e)
    finally:
        for driver in drivers:
            driver.stop()
        for driver in drivers:
            driver.join()
    if error:
        print("FAIL %-32s %s" % ("run", error), flush=True)
    ok = error is None and checks.failure is None and len(checks.passed) == 5
    print("%s: pymesos GPUs (%d checks)" % ("PASS" if ok else "FAIL", len(checks.passed)), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
