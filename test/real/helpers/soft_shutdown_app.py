"""Test helper: the example Celery app with celery 5.5's soft shutdown switched on.

  CELERY_APP=soft_shutdown_app (with this directory first on PYTHONPATH)
  SOFT_SHUTDOWN_TIMEOUT=N   worker_soft_shutdown_timeout in seconds

Same broker, tasks and settings as scripts.run_eveai_workers; only the cold-shutdown path differs: on QUIT the
worker first waits N seconds for running tasks, then cancels them and restores their messages.
"""

import os

from scripts.run_eveai_workers import app

app.conf.worker_soft_shutdown_timeout = float(os.environ["SOFT_SHUTDOWN_TIMEOUT"])
