// Settings outside the supervisor's own timing variables that silently break a worker's stop, named before
// anything starts. Pure: the environment is passed in.
import type { Settings } from '../supervise/plan.js';
import type { Advice, Problem } from './findings.js';

/** Redis transport's default visibility_timeout: an unacknowledged message goes to another worker after it. */
export const REDIS_VISIBILITY_TIMEOUT_MS = 3_600_000;

/**
 * Refused for ROLE=worker: billiard reads REMAP_SIGTERM at import, and with any value SIGTERM becomes celery's
 * cold shutdown (running tasks cancelled) and pool children ignore TERM. The supervisor's warm stop would then
 * never happen, and tasks with celery's defaults (acks_late=False) would be lost on every deploy. The quick
 * stop it is used for is already there: STOP_TIMEOUT=0 sends the hard-stop step (QUIT) right after TERM.
 */
export function refusedEnvironment(role: string, env: NodeJS.ProcessEnv): Problem[] {
  if (role !== 'worker' || !env.REMAP_SIGTERM) return [];
  return [
    {
      variable: 'REMAP_SIGTERM',
      // Not one of the supervisor's variables: its value is not logged.
      value: '(set, value not shown)',
      expected:
        "unset for ROLE=worker: it turns celery's warm shutdown on SIGTERM into a cold one, so every stop cancels the running tasks " +
        '(lost unless acks_late); for a quick stop set STOP_TIMEOUT=0 instead (the supervisor sends QUIT right after TERM)',
    },
  ];
}

/** Valid timings that work against celery's broker: warned about, not refused. */
export function workerTimingAdvice(role: string, settings: Settings, env: NodeJS.ProcessEnv): Advice[] {
  if (role !== 'worker') return [];
  const stopMs = settings.stopTimeoutMs + settings.escalationGraceMs;
  if (stopMs < REDIS_VISIBILITY_TIMEOUT_MS) return [];
  return [
    {
      variable: 'STOP_TIMEOUT',
      value: env.STOP_TIMEOUT ?? '',
      advice:
        `STOP_TIMEOUT + ESCALATION_GRACE well below the broker's visibility_timeout for ROLE=worker (Redis default ${REDIS_VISIBILITY_TIMEOUT_MS / 1000} s, ` +
        'counted from delivery): a task still running when it ends is delivered to another worker too and runs twice',
    },
  ];
}
