"""Example Celery application in the platform's layout (CELERY_APP default: scripts.run_eveai_workers).

Broker and result backend are Redis, taken from the environment:
  CELERY_BROKER_URL, else REDIS_URL, else redis://127.0.0.1:6379/0
  CELERY_RESULT_BACKEND, else the broker URL
  BEAT_TICK_SECONDS  interval of the one periodic task (default 5)
  PROBE_HEARTBEAT_FILE, PROBE_HEARTBEAT_MAX_AGE  opt-in heartbeat for the supervisor's /live probe (below)

Tasks:
  slow(n)  sleeps n seconds and returns n. acks_late=True + reject_on_worker_lost=True: the message
           is acknowledged only after the task finished, and goes back to the queue when the pool
           process running it dies or the worker does a cold shutdown.
  plain_slow(n)  the same with Celery's defaults (acks_late=False), the configuration most apps run:
           the message is acknowledged when the task starts, so a task killed mid-run is gone.
  tick()   the periodic task of the beat schedule; returns the time it ran.

Heartbeat (opt-in, only when PROBE_HEARTBEAT_FILE is set): a consumer bootstep touches that file from the
worker main process's own event loop every PROBE_HEARTBEAT_MAX_AGE / 4 seconds (default 60 / 4), from the
moment the consumer consumes. A main process that hangs (a blocked loop, a deadlock) stops touching it and the
supervisor's /live fails once the file is older than PROBE_HEARTBEAT_MAX_AGE; no Python process is started per
probe and nothing goes to the broker. Tasks run in pool processes, so a long task does not delay the heartbeat
(with -P solo it would: give such a worker a max age longer than its longest task).

JSON only (no pickle): a worker started as root with pickle accepted refuses to start without
C_FORCE_ROOT, and JSON is what the platform's tasks use anyway.
"""

import os
import time

from celery import Celery, bootsteps

BROKER_URL = (
    os.environ.get("CELERY_BROKER_URL")
    or os.environ.get("REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or BROKER_URL

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


@app.task(name="scripts.run_eveai_workers.slow", acks_late=True, reject_on_worker_lost=True)
def slow(n):
    time.sleep(float(n))
    return n


@app.task(name="scripts.run_eveai_workers.plain_slow")
def plain_slow(n):
    time.sleep(float(n))
    return n


@app.task(name="scripts.run_eveai_workers.tick")
def tick():
    return time.time()
