// ROLE=worker: the celery worker main process (prefork pool). Facts the policy relies on, measured on celery 5.2.6
// and 5.5.2 (test/real runs both): TERM = warm shutdown (running tasks finish, exit 0); QUIT = cold shutdown (5.5
// first cancels the running tasks: RETRY; acks_late messages go back to the queue; exit 1 on 5.2, 0 on 5.5 after a
// TERM); TERM to a pool child kills its task. A second TERM aborted the warm shutdown up to 5.2 (harmless since 5.3):
// the supervisor sends one TERM whatever the release.
import * as z from 'zod/mini';
import { defineRole } from './types.js';
import { POWER_FAILURE_STOP, SUPERVISOR_ONLY_RULES } from './shared-rules.js';
import { integer, nameList, oneOf, pythonTarget } from '../config/variables.js';

/** celery installs no handler for these: their default action would end the main process mid-task. */
const NO_CELERY_HANDLER = 'no celery handler: the default action would kill the main process and its running tasks';

export const CELERY_LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'] as const;

export const celeryApp = () =>
  pythonTarget({ default: 'scripts.run_eveai_workers', help: 'The Celery application (-A).' }, { factory: false });
export const celeryLogLevel = () =>
  oneOf(CELERY_LOG_LEVELS, { default: 'INFO', help: 'celery log level (--loglevel).' }, (v) => v.toUpperCase());

const schema = z.object({
  CELERY_APP: celeryApp(),
  CELERY_LOGLEVEL: celeryLogLevel(),
  CELERY_CONCURRENCY: integer(1, 1024, { default: '2', help: 'Pool processes (--concurrency).' }),
  CELERY_MAX_TASKS_PER_CHILD: integer(1, 2147483647, {
    default: '1000',
    help: 'Tasks a pool process runs before it is replaced (--max-tasks-per-child).',
  }),
  CELERY_PREFETCH: integer(0, 65535, { default: '1', help: 'Messages prefetched per process, 0 = unlimited (--prefetch-multiplier).' }),
  CELERY_QUEUES: z.optional(nameList({ help: "Queues to consume, comma-separated (-Q); unset = celery's default queue." })),
});

export const worker = defineRole({
  name: 'worker',
  summary: 'celery worker running tasks',
  schema,
  argv: (vars) => [
    'celery',
    '-A',
    vars.CELERY_APP,
    'worker',
    `--loglevel=${vars.CELERY_LOGLEVEL}`,
    `--concurrency=${vars.CELERY_CONCURRENCY}`,
    `--max-tasks-per-child=${vars.CELERY_MAX_TASKS_PER_CHILD}`,
    `--prefetch-multiplier=${vars.CELERY_PREFETCH}`,
    '-O',
    'fair',
    ...(vars.CELERY_QUEUES ? ['-Q', vars.CELERY_QUEUES.join(',')] : []),
  ],
  policy: {
    drains: [],
    hardStop: {
      signal: 'SIGQUIT',
      target: 'leader',
      why: 'cold shutdown: running tasks are abandoned and their acks_late messages go back to the queue',
      // Measured at concurrency 1, 2 and 8 (bench/restore-delay): every message is back in the queue 1.5-1.7 s
      // after QUIT on celery 5.2.6, 0.03-1.2 s on 5.5.2 (kombu first reads a pending BRPOP, up to 1 s). A SIGKILL
      // before that leaves them unacked until the broker's visibility timeout (1 h on Redis). 2 s covers both
      // lines; the default ESCALATION_GRACE (3 s) more. celery 5.5's worker_soft_shutdown_timeout adds its whole
      // length before the restore (README, Environment; test/real/soft-shutdown.test.ts).
      needsGrace: {
        ms: 2000,
        why: 'celery restores unacknowledged messages up to 1.7 s after QUIT (celery 5.2; 1.2 s on 5.5); SIGKILL before that leaves them unacked until the visibility timeout',
      },
    },
    // celery 5.2's warm shutdown can hang with no task left (its TERM handler raises wherever the main process is;
    // fixed in 5.3 by celery PR #7339): cut off while writing a job to a pool child, the child waits for the rest of
    // it and the main process for the child. Measured in the deploy drill and reproduced in test/drill.
    hardStopWhenStuck: {
      why: "celery's main process waits for pool children that wait for the rest of a job it will never send (celery 5.2's warm-shutdown hang): no task is running",
    },
    rules: {
      SIGTERM: { action: 'stop', send: 'SIGTERM', why: 'warm shutdown: stop consuming, running tasks finish' },
      SIGINT: { action: 'stop', send: 'SIGTERM', why: "a second INT would turn celery's warm shutdown cold; one TERM never does" },
      SIGQUIT: { action: 'stop-now', why: 'an explicit quick stop: cold shutdown, acks_late messages are restored' },
      SIGHUP: { action: 'drop', why: "celery would warm-stop and re-exec itself; restarts are the orchestrator's job" },
      SIGUSR1: { action: 'forward', target: 'leader', why: 'the main process logs the traceback of every thread, for debugging' },
      SIGUSR2: { action: 'drop', why: 'no handler in the main process: the default action would kill it' },
      SIGTTIN: { action: 'drop', why: 'no handler: the default action would suspend the worker' },
      SIGTTOU: { action: 'drop', why: 'no handler: the default action would suspend the worker' },
      SIGWINCH: { action: 'drop', why: 'no meaning for celery' },
      SIGPWR: POWER_FAILURE_STOP,
      SIGALRM: { action: 'drop', why: NO_CELERY_HANDLER },
      SIGVTALRM: { action: 'drop', why: NO_CELERY_HANDLER },
      SIGPROF: { action: 'drop', why: NO_CELERY_HANDLER },
      SIGIO: { action: 'drop', why: NO_CELERY_HANDLER },
      ...SUPERVISOR_ONLY_RULES,
    },
  },
  exec: {
    allowed: false,
    why:
      "exec mode has no deadline: celery's warm shutdown waits for running tasks without limit, so the runtime's SIGKILL ends them " +
      'with no cold shutdown (QUIT) first to give their acks_late messages back; and an entrypoint with `tini -g` would send the stop ' +
      'signal to the prefork pool children too, killing running tasks at once',
  },
});
