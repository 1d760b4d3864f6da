/**
 * celery 5.5's soft shutdown (worker_soft_shutdown_timeout, app configuration) under the supervisor, trixie only
 * (5.2 has no such setting): on the hard-stop step (QUIT) celery first sleeps the whole timeout while tasks run,
 * and only then cancels them and restores their messages. So ESCALATION_GRACE must cover the timeout plus the
 * restore, or the SIGKILL lands in the sleep and the messages stay unacked for the visibility timeout (1 h on
 * Redis). Both sides of that rule, measured: the README's advice rests on it.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import { useContainerCleanup } from '../support/real/container.js';
import { workerStopWithTasksInFlight } from '../support/real/scenarios.js';
import { TRIXIE } from '../support/real/versions.js';

useContainerCleanup();

const SOFT_SHUTDOWN_TIMEOUT = 3;
const env = (grace: number) => ({
  PYTHONPATH: `${path.join(ROOT, 'test/real/fixtures')}:${ROOT}`,
  CELERY_APP: 'soft_shutdown_app',
  SOFT_SHUTDOWN_TIMEOUT: String(SOFT_SHUTDOWN_TIMEOUT),
  STOP_TIMEOUT: '1',
  ESCALATION_GRACE: String(grace),
});

describe(`trixie: worker_soft_shutdown_timeout=${SOFT_SHUTDOWN_TIMEOUT}`, () => {
  beforeAll(() => TRIXIE.prepare(), 1_500_000);

  it('ESCALATION_GRACE shorter than the soft shutdown: SIGKILL during the sleep, the messages stay unacked (not back in the queue)', async () => {
    const o = await workerStopWithTasksInFlight({
      name: 'trixie-soft-shutdown-short-grace',
      runner: 'supervisor',
      versions: TRIXIE,
      tasks: 2,
      seconds: 60,
      concurrency: 2,
      env: env(2),
      exitDeadlineMs: 40_000,
    });
    expect(o.container.output, 'celery announced the soft shutdown').toMatch(/Initiating Soft Shutdown/);
    expect(o.events.map((e) => `${e.event}:${e.signal ?? ''}`)).toContain('shutdown.escalate:SIGKILL');
    expect(o.counts.unacked, JSON.stringify(o.fates)).toBe(2);
    expect(o.queueLength).toBe(0);
  }, 90_000);

  it(`ESCALATION_GRACE = soft shutdown + 2 s: the tasks are cancelled after the sleep and their messages restored`, async () => {
    const o = await workerStopWithTasksInFlight({
      name: 'trixie-soft-shutdown-covered',
      runner: 'supervisor',
      versions: TRIXIE,
      tasks: 2,
      seconds: 60,
      concurrency: 2,
      env: env(SOFT_SHUTDOWN_TIMEOUT + 2),
      exitDeadlineMs: 40_000,
    });
    expect(o.container.output).toMatch(/Initiating Soft Shutdown/);
    expect(o.events.map((e) => `${e.event}:${e.signal ?? ''}`)).not.toContain('shutdown.escalate:SIGKILL');
    expect(o.counts.queued, JSON.stringify(o.fates)).toBe(2);
    expect(o.restoreMs!, 'the restore waits for the whole soft shutdown').toBeGreaterThanOrEqual(SOFT_SHUTDOWN_TIMEOUT * 1000);
    expect(o.exit.code).toBe(0);
  }, 90_000);
});
