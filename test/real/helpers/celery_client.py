"""Test helper: sends tasks to the example Celery app (the real client API, real message protocol).

  python3 celery_client.py send COUNT SECONDS [TASK]   -> prints a JSON list of task ids

TASK is slow (default: acks_late) or plain_slow (celery's defaults: acknowledged when received).

The broker comes from CELERY_BROKER_URL, as for the worker.
"""

import json
import sys

from scripts.run_eveai_workers import plain_slow, slow

TASKS = {"slow": slow, "plain_slow": plain_slow}


def main(argv):
    if len(argv) not in (4, 5) or argv[1] != "send" or (len(argv) == 5 and argv[4] not in TASKS):
        print(__doc__, file=sys.stderr)
        return 64
    count, seconds = int(argv[2]), float(argv[3])
    task = TASKS[argv[4] if len(argv) == 5 else "slow"]
    ids = [task.delay(seconds).id for _ in range(count)]
    print(json.dumps(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
