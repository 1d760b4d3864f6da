// ROLE=web: the gunicorn master. Facts from gunicorn's arbiter: TERM = graceful stop (listeners closed,
// in-flight requests finish), INT/QUIT = quick stop (requests dropped), HUP = graceful reload.
import * as z from 'zod/mini';
import { defineRole } from './types.js';
import { POWER_FAILURE_STOP, SUPERVISOR_ONLY_RULES } from './shared-rules.js';
import { integer, oneOf, pythonTarget, workerClass } from '../config/variables.js';

/** gunicorn's arbiter handles HUP, QUIT, INT, TERM, TTIN, TTOU, USR1, USR2, WINCH and CHLD only. */
const NO_GUNICORN_HANDLER = 'no gunicorn handler: the default action would kill the master and strand its workers';

const GUNICORN_WORKER_CLASSES = ['sync', 'eventlet', 'gevent', 'gevent_wsgi', 'gevent_pywsgi', 'tornado', 'gthread'];
const GUNICORN_LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;

const schema = z.object({
  WORKERS: integer(1, 1024, { default: '1', help: 'gunicorn worker processes (-w).' }),
  WORKER_CLASS: workerClass(GUNICORN_WORKER_CLASSES, { default: 'gevent', help: 'gunicorn worker class (-k).' }),
  PORT: integer(1, 65535, { default: '8080', help: 'Port gunicorn binds on 0.0.0.0 (-b).' }),
  WORKER_CONN: integer(1, 100000, { default: '100', help: 'Simultaneous clients per async worker (--worker-connections).' }),
  LOGLEVEL: oneOf(GUNICORN_LOG_LEVELS, { default: 'info', help: 'gunicorn log level (--log-level).' }, (v) => v.toLowerCase()),
  WSGI_APP: pythonTarget({ default: 'scripts.run_eveai_app:app', help: 'The WSGI application gunicorn loads.' }, { factory: true }),
});

export const web = defineRole({
  name: 'web',
  summary: 'gunicorn serving the Flask app',
  schema,
  argv: (vars, common) => [
    'gunicorn',
    '-w',
    String(vars.WORKERS),
    '-k',
    vars.WORKER_CLASS,
    '-b',
    `0.0.0.0:${vars.PORT}`,
    '--worker-connections',
    String(vars.WORKER_CONN),
    '--access-logfile',
    '-',
    '--error-logfile',
    '-',
    '--log-level',
    vars.LOGLEVEL,
    // The supervisor owns the stop deadline: gunicorn must not SIGKILL its workers before the supervisor's
    // own hard-stop step has run, so its graceful timeout ends no earlier than the supervisor's SIGKILL.
    '--graceful-timeout',
    String(Math.max(1, Math.ceil((common.stopTimeoutMs + common.escalationGraceMs) / 1000))),
    // gunicorn's docs for containers: the worker heartbeat file on a disk-backed /tmp can block workers.
    '--worker-tmp-dir',
    '/dev/shm',
    vars.WSGI_APP,
  ],
  listenPort: (vars) => vars.PORT,
  // Behind a load balancer a stop keeps serving until the balancers have taken the replica out (README, "Deploying
  // without loss"): 5 s covers kube-proxy's propagation and a 2 s health check with margin. The budget 5 + 20 + 3 =
  // 28 s stays inside Kubernetes' default terminationGracePeriodSeconds (30), as every role's does.
  commonDefaults: { DRAIN_DELAY: '5', STOP_TIMEOUT: '20' },
  policy: {
    // The orchestrators' stop requests; a Ctrl-C at a terminal has no balancer in front and a person waiting.
    drains: ['SIGTERM', 'SIGPWR'],
    hardStop: {
      signal: 'SIGQUIT',
      target: 'group',
      why: 'the master ignores signals while it waits for its workers; QUIT to each worker makes it quit at once',
    },
    rules: {
      SIGTERM: { action: 'stop', send: 'SIGTERM', why: 'graceful stop: listeners close, in-flight requests finish' },
      SIGINT: {
        action: 'stop',
        send: 'SIGTERM',
        why: 'a Ctrl-C at a terminal: no balancer to wait for; INT would drop in-flight requests, so it gets the graceful stop too',
      },
      SIGQUIT: { action: 'stop-now', why: 'an explicit quick stop: in-flight requests are dropped' },
      SIGHUP: { action: 'forward', target: 'leader', why: 'the master reloads gracefully; HUP to the workers would drop requests' },
      SIGTTIN: { action: 'forward', target: 'leader', why: 'the master adds one worker' },
      SIGTTOU: { action: 'forward', target: 'leader', why: 'the master removes one worker' },
      SIGUSR1: { action: 'forward', target: 'leader', why: 'the master reopens its log files' },
      SIGUSR2: { action: 'drop', why: 'binary upgrade starts a second master as a child of the first; deploy a new image instead' },
      SIGWINCH: { action: 'drop', why: 'gunicorn acts on it only when daemonized, and then stops all workers' },
      SIGPWR: POWER_FAILURE_STOP,
      SIGALRM: { action: 'drop', why: NO_GUNICORN_HANDLER },
      SIGVTALRM: { action: 'drop', why: NO_GUNICORN_HANDLER },
      SIGPROF: { action: 'drop', why: NO_GUNICORN_HANDLER },
      SIGIO: { action: 'drop', why: NO_GUNICORN_HANDLER },
      ...SUPERVISOR_ONLY_RULES,
    },
  },
  exec: { allowed: true },
});
