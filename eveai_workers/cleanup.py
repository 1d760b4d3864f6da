"""Nightly clean-up, run as a Kubernetes CronJob (deploy/k8s/cleanup-cronjob.yaml):

    node /app/dist/supervisor.js -- python3 -m eveai_workers.cleanup

Connects to the Celery app's broker and result backend (scripts.run_eveai_workers, configured
from REDIS_URL / CELERY_BROKER_URL / CELERY_RESULT_BACKEND) and runs the backend's clean-up, the
same work as Celery's built-in `celery.backend_cleanup` task (a no-op for Redis, which expires
results itself; it deletes expired results on database backends). Exits 0 on success, 1 when the
broker cannot be reached, so the CronJob's history shows a failed run.
"""

import json
import sys

from scripts.run_eveai_workers import app


def main():
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=3)
    except Exception as exc:  # noqa: BLE001 - any connection error fails the run
        print(json.dumps({"event": "cleanup.failed", "error": str(exc)}), flush=True)
        return 1
    app.backend.cleanup()
    print(json.dumps({"event": "cleanup.done", "backend": type(app.backend).__name__}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
