#!/usr/bin/env python3
"""A custom executor written with pymesos 0.3.15's MesosExecutorDriver.

Launched by the agent for the scheduler in pymesos_scheduler.py. For each task it
sends TASK_RUNNING, a framework message "hello:<task id>", waits for the
scheduler to answer "ping" (a scheduler-to-executor framework message), replies
"pong:<task id>", then sends TASK_FINISHED. It exits when the agent sends
SHUTDOWN (framework teardown) or its subscription closes; its shutdown callback
leaves a file `pymesos-shutdown-callback` in the sandbox, which run.sh checks.
"""
import json
import logging
import os
import sys
import threading
import time

from addict import Dict
from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data

log = logging.getLogger("pymesos-compat-executor")


class CompatExecutor(Executor):
    def __init__(self):
        self.ping = threading.Event()

    def registered(self, driver, executor_info, framework_info, agent_info):
        log.info("registered: executor %s of framework %s on agent %s",
                 executor_info.executor_id.value, framework_info.id.value,
                 agent_info.id.value)
        log.debug("executor_info %s framework_info %s agent_info %s", json.dumps(executor_info, sort_keys=True),
                  json.dumps(framework_info, sort_keys=True), json.dumps(agent_info, sort_keys=True))

    def launchTask(self, driver, task):
        log.debug("task %s", json.dumps(task, sort_keys=True))
        def run():
            try:
                task_id = task.task_id.value
                driver.sendStatusUpdate(Dict(
                    task_id=task.task_id, state="TASK_RUNNING",
                    message="running in the pymesos executor"))
                driver.sendFrameworkMessage(
                    encode_data(("hello:%s" % task_id).encode()))
                got_ping = self.ping.wait(30)
                driver.sendFrameworkMessage(encode_data(
                    ("pong:%s" % task_id if got_ping else "no-ping:%s" % task_id).encode()))
                driver.sendStatusUpdate(Dict(
                    task_id=task.task_id,
                    state="TASK_FINISHED" if got_ping else "TASK_FAILED",
                    message="done" if got_ping else "never got ping",
                    data=encode_data(b"executor-result")))
            except Exception:
                log.exception("launchTask failed")
                driver.sendStatusUpdate(Dict(task_id=task.task_id, state="TASK_FAILED",
                                             message="executor raised"))

        threading.Thread(target=run, daemon=True).start()

    def killTask(self, driver, task_id):
        driver.sendStatusUpdate(Dict(task_id=task_id, state="TASK_KILLED"))

    def frameworkMessage(self, driver, message):
        data = decode_data(message)
        log.info("framework message from scheduler: %r", data)
        if data == b"ping":
            self.ping.set()

    def shutdown(self, driver):
        # run.sh checks for this file: Mesos sends SHUTDOWN and gives the executor
        # MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD to exit before killing it.
        log.info("shutdown (grace period %s)", os.environ.get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"))
        sandbox = os.environ.get("MESOS_SANDBOX")
        if sandbox:
            with open(os.path.join(sandbox, "pymesos-shutdown-callback"), "w") as f:
                f.write("shutdown\n")

    def error(self, driver, message):
        log.error("error: %s", message)


def main():
    logging.basicConfig(level=os.environ.get("PYMESOS_LOGLEVEL", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    driver = MesosExecutorDriver(CompatExecutor(), use_addict=True)
    driver.run()
    log.info("driver stopped")
    time.sleep(0.2)


if __name__ == "__main__":
    main()
