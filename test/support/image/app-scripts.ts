// Python run inside the example app's images (python3 -c CODE ARGS…: no shell anywhere), shared by the podman e2e
// and the kube play test.

/** Sends slow(seconds) [to a queue]; prints the task id. */
export const SEND_SLOW_PY = `
import sys
from scripts.run_eveai_workers import slow
queue = sys.argv[2] if len(sys.argv) > 2 else None
print(slow.apply_async((float(sys.argv[1]),), queue=queue).id)
`;

/** Prints {"state", "result"} of a task (the result only once it succeeded). */
export const TASK_STATE_PY = `
import json, sys
from scripts.run_eveai_workers import app
r = app.AsyncResult(sys.argv[1])
print(json.dumps({'state': r.state, 'result': r.result if r.successful() else None}))
`;
