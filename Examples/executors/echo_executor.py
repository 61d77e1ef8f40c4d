#!/usr/bin/env python3
"""A minimal Mesos v1 HTTP executor using only the Python standard library.

It subscribes to the agent named by MESOS_AGENT_ENDPOINT, reads the RecordIO event stream and, for every
LAUNCH, runs the task's `data` (base64 text) as a shell command: TASK_RUNNING, then TASK_FINISHED or
TASK_FAILED by exit status. KILL answers TASK_KILLED; SHUTDOWN exits. It also sends the framework a MESSAGE
("hello from <executor id>") after subscribing, and records what it saw in its sandbox (executor.log).
"""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid

AGENT = os.environ["MESOS_AGENT_ENDPOINT"]
FRAMEWORK_ID = os.environ["MESOS_FRAMEWORK_ID"]
EXECUTOR_ID = os.environ["MESOS_EXECUTOR_ID"]
SANDBOX = os.environ.get("MESOS_SANDBOX", ".")
# Sent back as a bearer token: an agent started with --authenticate-http-executors requires it.
TOKEN = os.environ.get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN")
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
if TOKEN:
    HEADERS["Authorization"] = "Bearer " + TOKEN
HOST, PORT = AGENT.rsplit(":", 1)
LOG = open(os.path.join(SANDBOX, "executor.log"), "a", buffering=1)
running = {}


def log(text):
    LOG.write(text + "\n")


def call(body):
    body.setdefault("framework_id", {"value": FRAMEWORK_ID})
    body.setdefault("executor_id", {"value": EXECUTOR_ID})
    conn = http.client.HTTPConnection(HOST, int(PORT), timeout=10)
    conn.request("POST", "/api/v1/executor", json.dumps(body), HEADERS)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if response.status != 202:
        log("call %s answered %d: %s" % (body["type"], response.status, text))
    return response.status


def update(task_id, state, message=""):
    status = {
        "task_id": {"value": task_id},
        "state": state,
        "source": "SOURCE_EXECUTOR",
        "message": message,
        "uuid": base64.b64encode(uuid.uuid4().bytes).decode(),
        "timestamp": time.time(),
    }
    log("UPDATE %s %s" % (task_id, state))
    call({"type": "UPDATE", "update": {"status": status}})


def run_task(task):
    task_id = task["task_id"]["value"]
    command = base64.b64decode(task.get("data", "")).decode() or "true"
    update(task_id, "TASK_RUNNING")
    process = subprocess.Popen(["/bin/sh", "-c", command])
    running[task_id] = process
    code = process.wait()
    if running.pop(task_id, None) is None:
        return  # killed
    update(task_id, "TASK_FINISHED" if code == 0 else "TASK_FAILED", "exit status %d" % code)


def records(response):
    buffer = b""
    while True:
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            length_text, rest = buffer.split(b"\n", 1)
            length = int(length_text)
            if len(rest) < length:
                break
            yield json.loads(rest[:length])
            buffer = rest[length:]


def main():
    conn = http.client.HTTPConnection(HOST, int(PORT))
    body = {"type": "SUBSCRIBE", "framework_id": {"value": FRAMEWORK_ID}, "executor_id": {"value": EXECUTOR_ID},
            "subscribe": {"unacknowledged_tasks": [], "unacknowledged_updates": []}}
    conn.request("POST", "/api/v1/executor", json.dumps(body), HEADERS)
    response = conn.getresponse()
    if response.status != 200:
        log("SUBSCRIBE answered %d: %s" % (response.status, response.read().decode()))
        sys.exit(2)
    for event in records(response):
        kind = event.get("type")
        log("EVENT %s" % kind)
        if kind == "SUBSCRIBED":
            container = event["subscribed"].get("container_id", {}).get("value", "")
            log("SUBSCRIBED container %s agent %s" % (container, event["subscribed"]["agent_info"]["id"]["value"]))
            threading.Thread(target=call, args=({"type": "MESSAGE", "message": {"data": base64.b64encode(("hello from " + EXECUTOR_ID).encode()).decode()}},), daemon=True).start()
        elif kind == "LAUNCH":
            threading.Thread(target=run_task, args=(event["launch"]["task"],), daemon=True).start()
        elif kind == "KILL":
            task_id = event["kill"]["task_id"]["value"]
            process = running.pop(task_id, None)
            if process:
                process.kill()
            update(task_id, "TASK_KILLED", "killed by the framework")
        elif kind == "ACKNOWLEDGED":
            log("ACKNOWLEDGED %s" % event["acknowledged"]["task_id"]["value"])
        elif kind == "MESSAGE":
            log("MESSAGE %s" % base64.b64decode(event["message"]["data"]).decode())
        elif kind == "SHUTDOWN":
            log("SHUTDOWN")
            for process in running.values():
                process.kill()
            sys.exit(0)


if __name__ == "__main__":
    main()
