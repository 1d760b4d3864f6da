// Worker and beat liveness on real celery (and redis) in the container topology: the heartbeat the example app
// writes from the main process's event loop, SIGSTOP of the celery main process (liveness fails, and passes again
// after SIGCONT), a stale heartbeat, and a warm shutdown with a task in flight (liveness true, readiness false,
// the task succeeds). Also /live once the program exited while its group is still draining.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { sleep, waitFor } from '../support/wait.js';
import { world } from '../support/world.js';
import { sendSlowTasks, taskState } from '../support/real/celery.js';
import { Container, useContainerCleanup } from '../support/real/container.js';
import { freePort, probeAnswer } from '../support/http.js';
import { RedisServer } from '../support/real/redis.js';

useContainerCleanup();

// The container's uid 10001 writes the heartbeat here.
const dir = mkdtempSync(join(tmpdir(), 'eveai-probes-'));
chmodSync(dir, 0o777);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker liveness on real celery', () => {
  it('passes once the heartbeat runs, fails while the main process is SIGSTOPped, passes after SIGCONT; stays true through a warm shutdown', async () => {
    await using redis = await RedisServer.start();
    const probePort = await freePort();
    const heartbeat = join(dir, 'worker-heartbeat');
    const container = await Container.start({
      name: 'probes-worker-sigstop',
      runner: 'supervisor',
      env: {
        ROLE: 'worker',
        CELERY_BROKER_URL: redis.url,
        CELERY_CONCURRENCY: '1',
        STOP_TIMEOUT: '30',
        PROBE_PORT: String(probePort),
        PROBE_HEARTBEAT_FILE: heartbeat,
        PROBE_HEARTBEAT_MAX_AGE: '8',
      },
    });
    await container.waitOutput(/celery@\S+ ready\./, 30_000);
    await waitFor('/live passes (the first heartbeat)', async () => (await probeAnswer(probePort, '/live')).status === 200, 20_000, 200);
    expect(await probeAnswer(probePort, '/ready')).toMatchObject({ status: 200, phase: 'running' });

    const leader = container.leader()!;
    expect(leader.cmdline).toContain('celery');
    process.kill(leader.pid, 'SIGSTOP');
    try {
      await waitFor(
        'the kernel reports the main process stopped',
        async () => (await probeAnswer(probePort, '/live')).status === 503,
        5000,
        50,
      );
      expect(await probeAnswer(probePort, '/live')).toMatchObject({
        status: 503,
        phase: 'running',
        reason: expect.stringContaining('stopped'),
      });
      expect((await probeAnswer(probePort, '/ready')).status).toBe(503);
    } finally {
      process.kill(leader.pid, 'SIGCONT');
    }
    await waitFor('/live passes again after SIGCONT', async () => (await probeAnswer(probePort, '/live')).status === 200, 10_000, 100);
    const failing = container.events().filter((e) => e.event === 'probe.failing' && e.probe === 'live');
    expect(failing.at(-1)).toMatchObject({ level: 'warn', reason: expect.stringContaining('stopped') });

    // A warm shutdown with a task in flight: the heartbeat stops with the consumer, liveness does not fail.
    const [id] = await sendSlowTasks(redis, 1, 4);
    await waitFor('the task STARTED', async () => (await taskState(redis, id!)) === 'STARTED', 20_000, 100);
    container.signal('SIGTERM');
    await waitFor('shutdown.graceful', () => container.events().some((e) => e.event === 'shutdown.graceful'), 10_000);
    expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200, phase: 'stopping' });
    expect(await probeAnswer(probePort, '/ready')).toMatchObject({ status: 503, phase: 'stopping' });
    expect((await container.waitExit(40_000)).code).toBe(0);
    expect(await taskState(redis, id!), 'the task in flight finished').toBe('SUCCESS');
  });
});

describe('heartbeat age', () => {
  // A stand-in program that never touches the heartbeat itself: the test touches it, then lets it age, which a
  // hung main loop would do (its process state stays S, so only the heartbeat can tell).
  it('fails once the heartbeat is older than PROBE_HEARTBEAT_MAX_AGE while the process looks fine', async () => {
    const w = world();
    const probePort = await freePort();
    const heartbeat = join(w.dir, 'heartbeat');
    const sup = await startSupervisor(['--', 'fake-child'], {
      env: { ...w.env, PROBE_PORT: String(probePort), PROBE_HEARTBEAT_FILE: heartbeat, PROBE_HEARTBEAT_MAX_AGE: '3' },
    });
    try {
      await sup.waitForLog((l) => l.event === 'child.spawn');
      expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 503, reason: 'no heartbeat since the program started' });
      writeFileSync(heartbeat, '');
      expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200, phase: 'running' });
      await sleep(3500);
      expect(await probeAnswer(probePort, '/live')).toMatchObject({
        status: 503,
        reason: expect.stringMatching(/^heartbeat is \d+ s old \(at most 3 s\)$/),
      });
      writeFileSync(heartbeat, '');
      expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200 });
      const changes = () =>
        sup
          .logs()
          .filter((l) => l.event === 'probe.failing' || l.event === 'probe.passing')
          .map((l) => l.event);
      // The log line is written before the answer, but reaches this test through a pipe of its own.
      await expect
        .poll(changes, { timeout: 5000, message: 'one line per change' })
        .toEqual(['probe.failing', 'probe.passing', 'probe.failing', 'probe.passing']);
    } finally {
      sup.signal('SIGTERM');
      await sup.exited;
      expect(w.cleanup()).toEqual([]);
    }
  });
});

describe('beat liveness on real celery beat', () => {
  it('fails while beat is SIGSTOPped and passes again after SIGCONT', async () => {
    await using redis = await RedisServer.start();
    const probePort = await freePort();
    const container = await Container.start({
      name: 'probes-beat-sigstop',
      runner: 'supervisor',
      env: { ROLE: 'beat', CELERY_BROKER_URL: redis.url, CELERY_BEAT_SCHEDULE: join(dir, 'beat-schedule'), PROBE_PORT: String(probePort) },
    });
    await container.waitOutput(/beat: Starting/, 30_000);
    expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200, phase: 'running' });
    const leader = container.leader()!;
    process.kill(leader.pid, 'SIGSTOP');
    try {
      await waitFor('/live fails', async () => (await probeAnswer(probePort, '/live')).status === 503, 5000, 50);
    } finally {
      process.kill(leader.pid, 'SIGCONT');
    }
    await waitFor('/live passes again', async () => (await probeAnswer(probePort, '/live')).status === 200, 10_000, 100);
    container.signal('SIGTERM');
    expect((await container.waitExit(30_000)).code).toBe(0);
  });
});

describe('liveness after the program exited', () => {
  it('fails while what the program left in its group is given its deadline', async () => {
    const w = world({ FAKE_GRANDCHILDREN: '1', FAKE_EXIT: '0' });
    const probePort = await freePort();
    // The grandchild ignores TERM: it is SIGKILLed ESCALATION_GRACE after the deadline, and the supervisor exits.
    const sup = await startSupervisor(['--', 'fake-child'], {
      env: { ...w.env, PROBE_PORT: String(probePort), STOP_TIMEOUT: '4', ESCALATION_GRACE: '1' },
    });
    try {
      await sup.waitForLog((l) => l.event === 'group.wait');
      expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 503, phase: 'exited', reason: 'the program exited' });
      expect((await probeAnswer(probePort, '/ready')).status).toBe(503);
      expect((await sup.exited).code).toBe(0);
    } finally {
      expect(w.cleanup()).toEqual([]);
    }
  });
});
