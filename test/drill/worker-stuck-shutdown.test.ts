/**
 * celery 5.2's warm-shutdown hang, on real celery: the main process waits in the pool's join for a child that waits
 * for the rest of a job (celery PR #7339). The deploy drill meets it by chance (bench/drill-results.md);
 * test/drill/fixtures/half_job_app.py makes it on every warm stop, on both version sets, by writing the start of a
 * job to each pool child when the TERM arrives. The supervisor sees the closed wait and takes the hard-stop step
 * then (shutdown.stuck) instead of after STOP_TIMEOUT (25 s) — but never while a task still runs.
 *
 * What the hard-stop step does there differs by release, and so does what happens to a task that finished while
 * the main process hung (its acks_late ack is never sent: the main process no longer reads the pool's results):
 *   celery 5.2  QUIT ends the join (its handler raises), the cold shutdown restores the message: it runs again.
 *   celery 5.5  QUIT only sets a flag, the join goes on, SIGKILL ends it ESCALATION_GRACE later; the message stays
 *               unacked until the visibility timeout, then runs again. (5.5 itself never hangs so: PR #7339.)
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRunLog, RUNS_KEY } from '../support/drill/run-log.js';
import { ROOT } from '../support/paths.js';
import { sendSlowTasks, taskState } from '../support/real/celery.js';
import { Container, useContainerCleanup } from '../support/real/container.js';
import { RedisServer } from '../support/real/redis.js';
import { VERSION_SETS, type VersionSet } from '../support/real/versions.js';
import { waitFor } from '../support/wait.js';

useContainerCleanup();

const TASK_SECONDS = 6;

describe.each(VERSION_SETS)('$name: a warm shutdown stuck with no task running', (versions: VersionSet) => {
  beforeAll(() => versions.prepare(), 1_500_000);

  it('the hard-stop step comes once the running task has finished, long before STOP_TIMEOUT; the task is not touched', async () => {
    await using redis = await RedisServer.start(versions);
    const worker = await Container.start({
      name: `${versions.name}-stuck-shutdown`,
      runner: 'supervisor',
      versions,
      env: {
        ROLE: 'worker',
        CELERY_BROKER_URL: redis.url,
        TASK_RUNS_KEY: RUNS_KEY,
        PYTHONPATH: `${path.join(ROOT, 'test/drill/fixtures')}:${ROOT}`,
        CELERY_APP: 'half_job_app',
      },
    });
    await worker.waitOutput(/celery@\S+ ready\./, 60_000);
    const [id] = await sendSlowTasks(redis, 1, TASK_SECONDS);
    await waitFor('the task STARTED', async () => (await taskState(redis, id!)) === 'STARTED', 20_000, 50);

    worker.signal('SIGTERM');
    const exit = await worker.waitExit(40_000);

    const events = worker.events();
    const stuck = events.filter((e) => e.event === 'shutdown.stuck');
    expect(stuck, `one shutdown.stuck line (log ${worker.logFile})`).toHaveLength(1);
    expect(stuck[0]!.members, 'both pool children wait').toHaveLength(2);
    const celery52 = versions.name === 'bookworm';
    const escalations = events.filter((e) => e.event === 'shutdown.escalate').map((e) => `${e.signal}:${e.target}`);
    expect(escalations).toEqual(celery52 ? ['SIGQUIT:leader'] : ['SIGQUIT:leader', 'SIGKILL:group']);
    expect(stuck[0]!.after_ms as number, 'before STOP_TIMEOUT (25 s)').toBeLessThan(25_000);
    // The task ran to its end before the hard-stop step: the early step protects what the deadline protected.
    expect(await taskState(redis, id!)).toBe('SUCCESS');
    const end = (await readRunLog(redis)).find((r) => r.id === id && r.event === 'end');
    expect(end, 'the task recorded its end').toBeDefined();
    expect(Date.parse(String(stuck[0]!.time))).toBeGreaterThan(end!.at * 1000);
    expect(exit.code).toBe(celery52 ? 1 : 137);
    // The finished task's message: back in the queue (5.2), or left unacked (5.5).
    expect(Number(await redis.command('LLEN', 'celery'))).toBe(celery52 ? 1 : 0);
    expect(Number(await redis.command('HLEN', 'unacked'))).toBe(celery52 ? 0 : 1);
  }, 120_000);
});
