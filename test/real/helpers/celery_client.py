"""Test helper: sends tasks to the example Celery app (the real client API, real message protocol).

  python3 celery_client.py send COUNT SECONDS   -> prints a JSON list of task ids

The broker comes from CELERY_BROKER_URL, as for the worker.
"""

import json
import sys

from scripts.run_eveai_workers import slow


def main(argv):
    if len(argv) != 4 or argv[1] != "send":
        print(__doc__, file=sys.stderr)
        return 64
    count, seconds = int(argv[2]), float(argv[3])
    ids = [slow.delay(seconds).id for _ in range(count)]
    print(json.dumps(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
