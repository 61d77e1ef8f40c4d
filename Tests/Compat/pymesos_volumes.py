#!/usr/bin/env python3
"""Compatibility test: persistent volumes from a framework written with pymesos 0.3.15, unchanged.

Usage: pymesos_volumes.py MASTER_HOST:PORT [TIMEOUT_SECONDS]

The scheduler subscribes in role `db` and, with pymesos's acceptOffers:
  * reserves 64 MB of disk, creates a persistent volume on it and launches a task that writes into it, in one ACCEPT;
  * after that task finished, sees the volume (with its reservation and persistence ID) in its next offer;
  * launches a second task on the volume, which finds the first task's data;
  * destroys the volume and unreserves the disk in one ACCEPT, then checks with pymesos's operator driver
    (GET_AGENTS) that no reservation is left.
Exit status 0 when every check passed; 1 with a FAIL line otherwise.
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

ROLE = "db"
VOLUME_ID = "compat-store"
log = logging.getLogger("pymesos-volumes")


def scalar(name, value):
    return dict(name=name, type="SCALAR", scalar=dict(value=value))


class VolumeScheduler(Scheduler):
    def __init__(self, principal):
        self.principal = principal
        self.phase = "reserve"
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.failure = None
        self.passed = []

    def ok(self, name, detail):
        self.passed.append(name)
        print("PASS %-32s %s" % (name, detail), flush=True)

    def fail(self, name, detail):
        self.failure = "%s: %s" % (name, detail)
        print("FAIL %-32s %s" % (name, detail), flush=True)
        self.done.set()

    def reserved_disk(self, size):
        return dict(name="disk", type="SCALAR", scalar=dict(value=size), role=ROLE, reservation=dict(principal=self.principal))

    def volume(self, size):
        disk = self.reserved_disk(size)
        disk["disk"] = dict(persistence=dict(id=VOLUME_ID, principal=self.principal), volume=dict(container_path="store", mode="RW"))
        return disk

    def task(self, name, agent_id, shell):
        return dict(name=name, task_id=dict(value=name), agent_id=dict(value=agent_id["value"]),
                    resources=[scalar("cpus", 0.1), scalar("mem", 32), self.volume(64)], command=dict(value=shell))

    @staticmethod
    def has_volume(offer):
        return any(r.get("disk", {}).get("persistence", {}).get("id") == VOLUME_ID for r in offer.resources)

    def resourceOffers(self, driver, offers):
        with self.lock:
            for offer in offers:
                if self.phase == "reserve":
                    operations = [
                        dict(type="RESERVE", reserve=dict(resources=[self.reserved_disk(64)])),
                        dict(type="CREATE", create=dict(volumes=[self.volume(64)])),
                        dict(type="LAUNCH", launch=dict(task_infos=[self.task("writer", offer.agent_id, "echo persisted > store/hello")])),
                    ]
                    driver.acceptOffers([offer.id], operations, dict(refuse_seconds=0))
                    self.phase = "writing"
                    self.ok("reserve_create_launch", "RESERVE + CREATE + LAUNCH in one ACCEPT")
                elif self.phase == "written" and self.has_volume(offer):
                    volume = [r for r in offer.resources if r.get("disk", {}).get("persistence", {}).get("id") == VOLUME_ID][0]
                    if volume.get("role") != ROLE or volume.get("reservation", {}).get("principal") != self.principal:
                        self.fail("volume_offered", "the offered volume lost its role or reservation: %s" % volume)
                        return
                    self.ok("volume_offered", "offer %s holds volume %s (role %s, %s MB)" % (
                        offer.id.value, VOLUME_ID, volume.get("role"), volume.get("scalar", {}).get("value")))
                    driver.acceptOffers([offer.id], [dict(type="LAUNCH", launch=dict(task_infos=[
                        self.task("reader", offer.agent_id, "grep -q persisted store/hello")]))], dict(refuse_seconds=0))
                    self.phase = "reading"
                elif self.phase == "read" and self.has_volume(offer):
                    driver.acceptOffers([offer.id], [
                        dict(type="DESTROY", destroy=dict(volumes=[self.volume(64)])),
                        dict(type="UNRESERVE", unreserve=dict(resources=[self.reserved_disk(64)])),
                    ], dict(refuse_seconds=0))
                    self.phase = "destroyed"
                    self.done.set()
                else:
                    driver.declineOffer(offer.id, dict(refuse_seconds=0))

    def statusUpdate(self, driver, update):
        state, task = update.state, update.task_id.value
        with self.lock:
            if state in ("TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_KILLED", "TASK_DROPPED"):
                self.fail(task, "%s: %s" % (state, update.get("message", "")))
            elif task == "writer" and state == "TASK_FINISHED":
                self.ok("writer_finished", "the writer task finished")
                self.phase = "written"
                driver.reviveOffers()
            elif task == "reader" and state == "TASK_FINISHED":
                self.ok("reader_found_data", "a second task on the volume found the first one's data")
                self.phase = "read"
                driver.reviveOffers()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    master = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    logging.basicConfig(level=os.environ.get("PYMESOS_LOGLEVEL", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    principal = os.environ.get("PYMESOS_PRINCIPAL")
    sched = VolumeScheduler(principal)
    framework = Dict(user=getpass.getuser(), name="pymesos-volumes", hostname=socket.gethostname(), failover_timeout=0, role=ROLE)
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True, principal=principal, secret=os.environ.get("PYMESOS_SECRET"))
    deadline = time.time() + timeout
    error = None
    try:
        driver.start()
        while not sched.done.is_set():
            if time.time() > deadline:
                error = "timed out after %.0fs in phase %s" % (timeout, sched.phase)
                break
            if driver.aborted:
                error = "pymesos driver aborted (see log above)"
                break
            sched.done.wait(0.2)
        if sched.failure is None and error is None:
            operator = MesosOperatorMasterDriver(master)
            left = None
            for _ in range(50):
                agents = operator.getAgents()["get_agents"].get("agents", [])
                left = [r for a in agents for r in a.get("total_resources", []) if r.get("reservation") or r.get("disk")]
                if not left:
                    break
                time.sleep(0.2)
            if left:
                sched.fail("destroy_unreserve", "reservations or volumes left on the agent: %s" % left)
            else:
                sched.ok("destroy_unreserve", "DESTROY + UNRESERVE left no reservation (pymesos operator GET_AGENTS)")
    except BaseException as e:
        error = "pymesos raised %s: %s" % (type(e).__name__, e)
    finally:
        driver.stop()
        driver.join()
    if error:
        print("FAIL %-32s %s" % ("run", error), flush=True)
    ok = error is None and sched.failure is None and len(sched.passed) == 5
    print("%s: pymesos persistent volumes (%d checks)" % ("PASS" if ok else "FAIL", len(sched.passed)), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
