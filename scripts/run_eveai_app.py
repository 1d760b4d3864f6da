"""Example web application in the platform's layout (WSGI_APP default: scripts.run_eveai_app:app).

Routes:
  GET /healthz      -> 200 {"status": "ok", "pid": <worker pid>}
  GET /slow?s=N     -> sleeps N seconds (decimals ok), then 200 {"slept": N, "pid": <worker pid>}

/slow writes one line "slow.start pid=<pid> s=<N>" to stderr when it begins, so a test (or a
person watching the logs) can see that a request is in flight before it stops the container.
Under gunicorn's gevent worker time.sleep is cooperative (gunicorn monkey-patches), so many
/slow requests run concurrently in one worker.
"""

import os
import sys
import time

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok", pid=os.getpid())


@app.get("/slow")
def slow():
    try:
        seconds = float(request.args.get("s", "1"))
    except ValueError:
        return jsonify(error="s must be a number of seconds"), 400
    if seconds < 0:
        return jsonify(error="s must not be negative"), 400
    print(f"slow.start pid={os.getpid()} s={seconds:g}", file=sys.stderr, flush=True)
    time.sleep(seconds)
    return jsonify(slept=seconds, pid=os.getpid())


if __name__ == "__main__":  # development only; containers run it under gunicorn
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
