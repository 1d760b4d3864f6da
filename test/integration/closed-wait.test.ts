// The worker's early hard-stop step (shutdown.stuck): taken only for a closed wait, where nothing in the group can
// move, and never while something could still finish by itself. test/fixtures/closed-wait.py stands in for celery's
// main process and a pool child in each shape; test/drill/worker-stuck-shutdown.test.ts shows it on real celery.
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, tempDir } from '../support/cleanup.js';
import { ROOT } from '../support/paths.js';
import { type LogLine, startSupervisor } from '../support/supervisor.js';
import { waitFor, within } from '../support/wait.js';
import { world } from '../support/world.js';

cleanUpAfterEach();

const FIXTURE = join(ROOT, 'test/fixtures/closed-wait.py');
const STOP_TIMEOUT_S = 20;

async function stop(role: 'worker' | 'beat', shape: string, stopTimeout = STOP_TIMEOUT_S) {
  const bin = join(tempDir('eveai-closed-wait-'), 'bin');
  mkdirSync(bin);
  symlinkSync(FIXTURE, join(bin, 'celery'));
  const w = world();
  const record = join(w.dir, 'closed-wait.log');
  using run = await startSupervisor([], {
    env: {
      ...w.env,
      PATH: `${bin}:${w.env.PATH}`,
      ROLE: role,
      CLOSED_WAIT: shape,
      CLOSED_WAIT_RECORD: record,
      STOP_TIMEOUT: String(stopTimeout),
      ESCALATION_GRACE: '1',
    },
  });
  const lines = () => readFileSync(record, 'utf8').split('\n').filter(Boolean);
  await waitFor(
    `${shape}: ready`,
    () => {
      try {
        return lines().includes('ready');
      } catch {
        return false;
      }
    },
    10_000,
  );
  run.signal('SIGTERM');
  await within(run.exited, (stopTimeout + 10) * 1000, `${shape}: the supervisor's exit`);
  expect(w.alive(), 'nothing left').toEqual([]);
  const logs = run.logs();
  const events = (name: string) => logs.filter((l: LogLine) => l.event === name);
  return { logs, record: lines(), stuck: events('shutdown.stuck'), escalations: events('shutdown.escalate'), exit: logs.at(-1) };
}

describe('worker: a stop stuck in a closed wait gets the hard-stop step early', () => {
  it('closed: the leader waits for a child that waits on a pipe only the leader feeds -> shutdown.stuck, then QUIT', async () => {
    const o = await stop('worker', 'closed');
    expect(o.stuck, 'one shutdown.stuck line').toHaveLength(1);
    expect(o.stuck[0]).toMatchObject({ level: 'warn', members: [expect.stringMatching(/^[0-9]+:python3$/)] });
    expect(o.stuck[0]!.why).toMatch(/celery 5\.2/);
    expect(o.stuck[0]!.after_ms as number, 'confirmed over three looks, long before STOP_TIMEOUT').toBeGreaterThanOrEqual(2000);
    expect(o.stuck[0]!.after_ms as number).toBeLessThan(STOP_TIMEOUT_S * 1000);
    expect(o.escalations.map((l) => `${l.signal}:${l.target}`)).toEqual(['SIGQUIT:leader']);
    expect(o.record).toEqual(['ready', 'QUIT', 'exit 3']);
    expect(o.exit).toMatchObject({ event: 'supervisor.exit', code: 3 });
  }, 60_000);

  it.each([
    ['busy', 'the child sleeps (a task running)'],
    ['open', 'the child reads a pipe its own child (not waiting) writes to'],
    ['self-pipe', 'the child holds the write end of the pipe it reads (its own signal handler can wake it)'],
    ['thread', 'the leader has a second thread that can still write'],
  ])(
    '%s: %s -> no early step; it ends by itself',
    async (shape) => {
      const o = await stop('worker', shape);
      expect(o.stuck).toEqual([]);
      expect(o.escalations).toEqual([]);
      expect(o.record).toEqual(['ready', 'exit 0']);
      expect(o.exit).toMatchObject({ event: 'supervisor.exit', code: 0 });
    },
    60_000,
  );

  it('beat does not look for it: the same closed wait runs into its STOP_TIMEOUT', async () => {
    const o = await stop('beat', 'closed', 4);
    expect(o.stuck).toEqual([]);
    expect(o.escalations.map((l) => `${l.signal}:${l.target}`)).toEqual(['SIGKILL:group']);
    expect(o.escalations[0]!.after_ms as number).toBeGreaterThanOrEqual(4000);
  }, 60_000);
});
