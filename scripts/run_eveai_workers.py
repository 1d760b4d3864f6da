"""Example Celery application in the platform's layout (CELERY_APP default: scripts.run_eveai_workers).

Broker and result backend are Redis, taken from the environment:
  CELERY_BROKER_URL, else REDIS_URL, else redis://127.0.0.1:6379/0
  CELERY_RESULT_BACKEND, else the broker URL
  BEAT_TICK_SECONDS  interval of the one periodic task (default 5)
  PROBE_HEARTBEAT_FILE, PROBE_HEARTBEAT_MAX_AGE  opt-in heartbeat for the supervisor's /live probe (below)
  TASK_RUNS_KEY  opt-in run log (below)

Tasks:
  slow(n)  sleeps n seconds and returns n. acks_late=True + reject_on_worker_lost=True: the message
           is acknowledged only after the task finished, and goes back to the queue when the pool
           process running it dies or the worker does a cold shutdown.
  plain_slow(n)  the same with Celery's defaults (acks_late=False), the configuration most apps run:
           the message is acknowledged when the task starts, so a task killed mid-run is gone.
  tick(sent_at, sent_by)  the periodic task of the beat schedule; returns the time it ran. Beat fills in its
           arguments when it sends the tick: the time it sent it and its replica's HOSTNAME.

Run log (opt-in, only when TASK_RUNS_KEY is set): slow, plain_slow and tick append one JSON record per event
to that Redis list in the result backend - {"event": "start" | "end", "task", "id", "replica", "at"} (tick:
one "run" record with sent_at and sent_by). Each execution is recorded, so a deploy drill counts tasks that never
finished and tasks that ran twice by id. "replica" is HOSTNAME (the pod name under Kubernetes).

Heartbeat (opt-in, only when PROBE_HEARTBEAT_FILE is set): a consumer bootstep touches that file from the
worker main process's own event loop every PROBE_HEARTBEAT_MAX_AGE / 4 seconds (default 60 / 4), from the
moment the consumer consumes. A main process that hangs (a blocked loop, a deadlock) stops touching it and the
supervisor's /live fails once the file is older than PROBE_HEARTBEAT_MAX_AGE; no Python process is started per
probe and nothing goes to the broker. Tasks run in pool processes, so a long task does not delay the heartbeat
(with -P solo it would: give such a worker a max age longer than its longest task).

JSON only (no pickle): a worker started as root with pickle accepted refuses to start without
C_FORCE_ROOT, and JSON is what the platform's tasks use anyway.
"""

import json
import os
import time

from celery import Celery, bootsteps
from celery.beat import BeatLazyFunc

BROKER_URL = (
    os.environ.get("CELERY_BROKER_URL")
    or os.environ.get("REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or BROKER_URL
TASK_RUNS_KEY = os.environ.get("TASK_RUNS_KEY") or None


def replica_name():
    """Which replica this process belongs to: the pod name under Kubernetes."""
    return os.environ.get("HOSTNAME", "")


app = Celery("eveai_workers", broker=BROKER_URL, backend=RESULT_BACKEND)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    task_track_started=True,  # STARTED is visible in the result backend while a task runs
    timezone="UTC",
    beat_schedule={
        "tick": {
            "task": "scripts.run_eveai_workers.tick",
            "schedule": float(os.environ.get("BEAT_TICK_SECONDS", "5")),
            # Evaluated by beat each time it sends the tick (and saved in its schedule file by reference).
            "args": (BeatLazyFunc(time.time), BeatLazyFunc(replica_name)),
        },
    },
)


class Heartbeat(bootsteps.StartStopStep):
    """Touches PROBE_HEARTBEAT_FILE from the consumer's timer (the main process's event loop)."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.path = os.environ.get("PROBE_HEARTBEAT_FILE") or None
        self.interval = float(os.environ.get("PROBE_HEARTBEAT_MAX_AGE") or "60") / 4
        self.tref = None

    def include_if(self, parent):
        return self.path is not None

    def beat(self):
        # Create or refresh: the supervisor only reads the modification time.
        with open(self.path, "a"):
            pass
        os.utime(self.path, None)

    def start(self, parent):
        self.beat()
        self.tref = parent.timer.call_repeatedly(self.interval, self.beat)

    def stop(self, parent):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


app.steps["consumer"].add(Heartbeat)


def record_run(task, event, **fields):
    """Appends one record to the run log (TASK_RUNS_KEY), through the result backend's Redis client."""
    if TASK_RUNS_KEY is None:
        return
    record = {
        "event": event,
        "task": task.name.rsplit(".", 1)[-1],
        "id": task.request.id,
        "replica": replica_name(),
        "at": time.time(),
        **fields,
    }
    task.backend.client.rpush(TASK_RUNS_KEY, json.dumps(record))


def sleep_recorded(task, n):
    record_run(task, "start")
    time.sleep(float(n))
    record_run(task, "end")
    return n


@app.task(name="scripts.run_eveai_workers.slow", bind=True, acks_late=True, reject_on_worker_lost=True)
def slow(self, n):
    return sleep_recorded(self, n)


@app.task(name="scripts.run_eveai_workers.plain_slow", bind=True)
def plain_slow(self, n):
    return sleep_recorded(self, n)


@app.task(name="scripts.run_eveai_workers.tick", bind=True)
def tick(self, sent_at=None, sent_by=None):
    record_run(self, "run", sent_at=sent_at, sent_by=sent_by)
    return time.time()
