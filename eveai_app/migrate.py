"""One-off database migration, run as a Kubernetes Job (deploy/k8s/migrate-job.yaml):

    node /app/dist/supervisor.js -- python3 -m eveai_app.migrate

A placeholder for the platform's real migrations (e.g. `flask db upgrade`): it reports what it
would do and exits 0. `--fail N` exits N instead, so the Job's failure path can be exercised;
the supervisor passes the exit code through and the Job's backoffLimit decides about a retry.
"""

import argparse
import json
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m eveai_app.migrate")
    parser.add_argument("--fail", type=int, default=0, metavar="N", help="exit with code N (test hook)")
    args = parser.parse_args(argv)
    print(json.dumps({"event": "migrate.done", "applied": 0, "exit": args.fail}), flush=True)
    return args.fail


if __name__ == "__main__":
    sys.exit(main())
