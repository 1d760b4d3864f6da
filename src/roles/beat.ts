// ROLE=beat: the celery beat scheduler. It saves its schedule on TERM and INT only; QUIT, HUP and USR1
// take their default action (exit without saving). Exactly one beat may run per schedule.
import * as z from 'zod/mini';
import { defineRole } from './types.js';
import { POWER_FAILURE_STOP, SUPERVISOR_ONLY_RULES } from './shared-rules.js';
import { filePath } from '../config/variables.js';
import { celeryApp, celeryLogLevel } from './worker.js';

const schema = z.object({
  CELERY_APP: celeryApp(),
  CELERY_LOGLEVEL: celeryLogLevel(),
  CELERY_BEAT_SCHEDULE: z.optional(filePath({ help: 'Schedule file (-s); unset = celerybeat-schedule in the working directory.' })),
});

const SAVE_FIRST = 'the default action would end beat without saving its schedule';

export const beat = defineRole({
  name: 'beat',
  summary: 'celery beat sending periodic tasks',
  schema,
  // Never a pidfile: celery 5 writes none unless asked, and a stale one blocks the next start.
  argv: (vars) => [
    'celery',
    '-A',
    vars.CELERY_APP,
    'beat',
    `--loglevel=${vars.CELERY_LOGLEVEL}`,
    ...(vars.CELERY_BEAT_SCHEDULE ? ['-s', vars.CELERY_BEAT_SCHEDULE] : []),
  ],
  policy: {
    drains: [],
    // No hard-stop step: nothing softer than SIGKILL is left once TERM did not end it.
    rules: {
      SIGTERM: { action: 'stop', send: 'SIGTERM', why: 'beat saves its schedule and exits' },
      SIGINT: { action: 'stop', send: 'SIGTERM', why: 'same as TERM, one signal for every stop' },
      SIGQUIT: { action: 'stop', send: 'SIGTERM', why: `translated to TERM: ${SAVE_FIRST}` },
      SIGHUP: { action: 'drop', why: SAVE_FIRST },
      SIGUSR1: { action: 'drop', why: SAVE_FIRST },
      SIGUSR2: { action: 'drop', why: SAVE_FIRST },
      SIGTTIN: { action: 'drop', why: 'the default action would suspend beat' },
      SIGTTOU: { action: 'drop', why: 'the default action would suspend beat' },
      SIGWINCH: { action: 'drop', why: 'no meaning for beat' },
      SIGPWR: POWER_FAILURE_STOP,
      SIGALRM: { action: 'drop', why: SAVE_FIRST },
      SIGVTALRM: { action: 'drop', why: SAVE_FIRST },
      SIGPROF: { action: 'drop', why: SAVE_FIRST },
      SIGIO: { action: 'drop', why: SAVE_FIRST },
      ...SUPERVISOR_ONLY_RULES,
    },
  },
  exec: { allowed: true },
});
