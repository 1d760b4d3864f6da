/**
 * Issue 12: no signal loses work. A real celery worker (real redis, scripts/run_eveai_workers.py) runs task `slow`
 * under the supervisor in the container topology (the image's tini as PID 1, uid 10001). Every signal the supervisor listens
 * for that is not a stop request goes to the supervisor itself (a `kill` inside the container reaches it; PID 1 would
 * not pass on TTIN/TTOU/ABRT/TRAP/SYS); none may stop the worker or the task. Then the stop request arrives at PID 1,
 * as a runtime sends it, and the task still ends SUCCESS. The graceful stop requests other than TERM (INT, and PWR as
 * LXC/Incus send it) are each checked the same way. QUIT is the explicit quick stop (cold shutdown) and is covered by
 * scenario 5 of stop-semantics.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../support/wait.js';
import { sendSlowTasks, taskState } from '../support/real/celery.js';
import { Container, useContainerCleanup } from '../support/real/container.js';
import { RedisServer } from '../support/real/redis.js';
import { HANDLED_SIGNALS, type HandledSignal } from '../../src/signals/trap.js';
import { findRole } from '../../src/roles/index.js';

useContainerCleanup();

const worker = findRole('worker')!;
const STOP_REQUESTS = HANDLED_SIGNALS.filter((s) => ['stop', 'stop-now'].includes(worker.policy.rules[s].action));
const NOT_A_STOP = HANDLED_SIGNALS.filter((s) => !STOP_REQUESTS.includes(s));
/** Long enough for every signal to arrive while it runs, on a loaded machine too. */
const TASK_SECONDS = 10;

async function workerWithTaskInFlight(name: string, redis: RedisServer): Promise<{ container: Container; id: string }> {
  const container = await Container.start({
    name,
    runner: 'supervisor',
    env: { ROLE: 'worker', CELERY_BROKER_URL: redis.url, CELERY_CONCURRENCY: '1' },
  });
  await container.waitOutput(/celery@\S+ ready\./, 30_000);
  const [id] = await sendSlowTasks(redis, 1, TASK_SECONDS);
  await waitFor(`${name}: the task STARTED`, async () => (await taskState(redis, id!)) === 'STARTED', 20_000, 100);
  return { container, id: id! };
}

describe('ROLE=worker, a real celery worker with task slow in flight', () => {
  it(`the ${NOT_A_STOP.length} signals that are no stop request, each sent to the supervisor, then TERM to PID 1: the task ends SUCCESS`, async () => {
    await using redis = await RedisServer.start();
    const { container, id } = await workerWithTaskInFlight('every-signal-worker', redis);
    const started = Date.now();
    for (const signal of NOT_A_STOP) {
      container.signal(signal, 2);
      await sleep(50);
    }
    const received = () =>
      new Set(
        container
          .events()
          .filter((e) => e.event === 'signal.received')
          .map((e) => e.signal as HandledSignal),
      );
    await waitFor('every signal logged as received', () => NOT_A_STOP.every((s) => received().has(s)), 15_000, 50);
    const events = container.events();
    expect(container.running, 'the worker still runs').toBe(true);
    expect(await taskState(redis, id), 'the task still runs').toBe('STARTED');
    expect(Date.now() - started, 'all signals arrived while the task ran').toBeLessThan(TASK_SECONDS * 1000);
    expect(
      events.filter((e) => e.event.startsWith('shutdown.')),
      'no stop began',
    ).toEqual([]);
    for (const signal of NOT_A_STOP) {
      const rule = worker.policy.rules[signal];
      const outcome = rule.action === 'forward' ? 'signal.forwarded' : 'signal.dropped';
      expect(
        events.some((e) => e.event === outcome && e.signal === signal),
        `${signal}: ${outcome}`,
      ).toBe(true);
    }

    container.signal('SIGTERM');
    const exit = await container.waitExit(TASK_SECONDS * 1000 + 30_000);
    expect(await taskState(redis, id), 'the task ran to its end').toBe('SUCCESS');
    expect(exit.code).toBe(0);
    const last = container.events().at(-1);
    expect(last).toMatchObject({ event: 'supervisor.exit', code: 0 });
    expect(container.events().filter((e) => e.event === 'shutdown.graceful')).toHaveLength(1);
    expect(container.events().filter((e) => e.event === 'shutdown.escalate')).toEqual([]);
  }, 120_000);

  for (const stop of STOP_REQUESTS.filter((s) => s !== 'SIGTERM' && worker.policy.rules[s].action === 'stop')) {
    it(`${stop} to PID 1 is a graceful stop: the task ends SUCCESS`, async () => {
      await using redis = await RedisServer.start();
      const { container, id } = await workerWithTaskInFlight(`stop-by-${stop}`, redis);
      container.signal(stop);
      const exit = await container.waitExit(TASK_SECONDS * 1000 + 30_000);
      expect(await taskState(redis, id)).toBe('SUCCESS');
      expect(exit.code).toBe(0);
      expect(container.events().find((e) => e.event === 'shutdown.graceful')).toMatchObject({ signal: 'SIGTERM', target: 'leader' });
      expect(container.events().at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
    }, 120_000);
  }
});
