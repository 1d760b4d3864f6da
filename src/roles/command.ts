// `supervisor.js -- CMD ARGS…`: a one-off program (Kubernetes Job/CronJob: migrations, clean-ups) with the
// same deadline, logging and exit codes. Its semantics are unknown, so signals reach it as they were sent.
import * as z from 'zod/mini';
import { defineRole, type Role } from './types.js';
import { POWER_FAILURE_STOP, SUPERVISOR_ONLY_RULES } from './shared-rules.js';

export function commandRole(command: readonly string[]): Role {
  return defineRole({
    name: 'command',
    summary: 'a one-off command given after --',
    schema: z.object({}),
    argv: () => [...command],
    policy: {
      drains: [],
      hardStop: {
        signal: 'SIGTERM',
        target: 'group',
        why: 'whatever the program started and did not stop itself gets TERM before SIGKILL',
      },
      rules: {
        SIGTERM: { action: 'stop', send: 'SIGTERM', why: 'passed on as sent' },
        SIGINT: { action: 'stop', send: 'SIGINT', why: 'passed on as sent' },
        SIGQUIT: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGHUP: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGUSR1: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGUSR2: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGWINCH: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGTTIN: { action: 'drop', why: 'the default action would suspend the job and it would never finish' },
        SIGTTOU: { action: 'drop', why: 'the default action would suspend the job and it would never finish' },
        SIGPWR: { ...POWER_FAILURE_STOP, why: "LXC/Incus's shutdown request: TERM, the stop signal every program knows" },
        SIGALRM: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGVTALRM: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGPROF: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        SIGIO: { action: 'forward', target: 'leader', why: 'passed on as sent' },
        ...SUPERVISOR_ONLY_RULES,
      },
    },
    exec: { allowed: true },
  });
}
