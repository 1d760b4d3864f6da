// Faults inside the supervisor, the supervisor killed outright, secrets, and running as root.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { FAKE_CHILD } from '../support/paths.js';
import { events, type Exit, foreignLines, startSupervisor, supervisorPidOf } from '../support/supervisor.js';
import { eventually, sleep, within } from '../support/wait.js';
import { readReport, readyCount, waitForRecord, type World, world } from '../support/world.js';

expectNothingLeftAfterAll();

describe('an internal error (EVEAI_SUPERVISOR_INJECT_FAULT=after-spawn throws 200 ms after the spawn)', () => {
  for (const pidNamespace of [false, true]) {
    it(`${pidNamespace ? 'under tini' : 'plain'}: the whole group is killed, exit 70, the error is one JSON line`, async () => {
      // Grandchildren that ignore TERM: only a kill of the whole group ends them.
      using w = world({
        EVEAI_SUPERVISOR_INJECT_FAULT: 'after-spawn',
        FAKE_GRANDCHILDREN: '2',
        FAKE_ON_TERM: 'ignore',
        SUPERVISOR_LOG_LEVEL: 'info',
      });
      using run = await startSupervisor(['--', 'node', FAKE_CHILD], { env: w.env, pidNamespace });
      const exit = await within(run.exited, 20_000, 'exit after the fault');
      expect(exit.code).toBe(70);
      expect(await eventually(() => w.alive().length === 0, 2_000)).toBe(true);
      const errors = events(run.logs(), 'supervisor.error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: 'fatal', error: expect.stringContaining('injected fault') });
      expect(String(errors[0]!.stack)).toContain('\n'); // the stack is a field of the one line, not loose lines
      expect(foreignLines(run.stderr())).toEqual([]);
      expect(run.logs().at(-1)).toMatchObject({ event: 'supervisor.exit', code: 70 });
    }, 30_000);
  }
});

describe('the supervisor killed with SIGKILL', () => {
  /** Kills the supervisor of a running group of three that ignores TERM; resolves with how the started process ended. */
  async function killSupervisor(w: World, pidNamespace: boolean): Promise<Exit> {
    using run = await startSupervisor(['--', 'node', FAKE_CHILD], { env: w.env, pidNamespace });
    // 'exit', not run.exited ('close'): orphans still hold the inherited stdout/stderr pipes open.
    const exited = new Promise<Exit>((done) => run.proc.once('exit', (code, signal) => done({ code, signal })));
    await waitForRecord(w.record, readyCount(3));
    process.kill(await supervisorPidOf(run, pidNamespace), 'SIGKILL');
    return await within(exited, 20_000, 'exit'); // awaited here: `using` kills the run when the function returns
  }

  it('under tini in a PID namespace: nothing of the group survives', async () => {
    // SIGKILL cannot be caught: the supervisor kills nothing itself. tini (PID 1 of the namespace) reaps it and
    // exits at once with 128+9; when a PID namespace's init exits, the kernel SIGKILLs every process left in
    // the namespace — the program's group, and anything that escaped it with setsid().
    using w = world({ FAKE_GRANDCHILDREN: '2', FAKE_ON_TERM: 'ignore' });
    const exit = await killSupervisor(w, true);
    expect(exit.code).toBe(137);
    expect(await eventually(() => w.alive().length === 0, 2_000)).toBe(true);
  }, 30_000);

  it('without a PID namespace the group is orphaned: what tini in the image is for', async () => {
    // The reason the image's entrypoint is tini in the container's PID namespace: no process can act on its
    // own SIGKILL, and Node offers no PR_SET_PDEATHSIG for the child, so outside a namespace the group lives on.
    using w = world({ FAKE_GRANDCHILDREN: '2', FAKE_ON_TERM: 'ignore' });
    const exit = await killSupervisor(w, false);
    expect(exit.signal).toBe('SIGKILL');
    await sleep(300);
    expect(w.alive()).toHaveLength(3);
  }, 30_000);
});

describe("secrets never reach the supervisor's own output", () => {
  const secret = () => randomBytes(18).toString('base64url');
  const secrets = {
    DATABASE_URL: `postgresql://eveai:${secret()}@db.internal:5432/eveai`,
    REDIS_PASSWORD: secret(),
    GITHUB_TOKEN: `ghp_${secret()}`,
    OPENAI_API_KEY: `sk-${secret()}`,
    SECRET_KEY: secret(),
    AWS_SECRET_ACCESS_KEY: secret(),
    // Names one typo away from the supervisor's own: reported by name, never with their value.
    WORKER: secret(),
    CELERY_CONCURENCY: secret(),
    STOP_TIMEOUTS: secret(),
    ROLES: secret(),
  };
  const values = Object.values(secrets).map((v) => (v.includes('@') ? v.split(':')[2]!.split('@')[0]! : v));

  const scenarios: { name: string; args: string[]; env: Record<string, string>; stop?: 'TERM'; code: number }[] = [
    { name: 'a normal run, stopped', args: [], env: { ROLE: 'web' }, stop: 'TERM', code: 0 },
    {
      name: 'a stop that escalates to SIGKILL',
      args: [],
      env: { ROLE: 'worker', FAKE_ON_TERM: 'ignore', STOP_TIMEOUT: '0.3', ESCALATION_GRACE: '0.3' },
      stop: 'TERM',
      code: 137,
    },
    { name: 'invalid configuration', args: [], env: { ROLE: 'web', WORKERS: 'many', PORT: '0', STOP_TIMEOUT: '-1' }, code: 78 },
    { name: 'invalid ROLE', args: [], env: { ROLE: 'wbe' }, code: 78 },
    { name: 'an internal error', args: [], env: { ROLE: 'web', EVEAI_SUPERVISOR_INJECT_FAULT: 'after-spawn' }, code: 70 },
    { name: 'program not found', args: ['--', 'no-such-program-xyz'], env: {}, code: 127 },
    { name: '--print', args: ['--print'], env: { ROLE: 'worker', CELERY_QUEUES: 'a,b' }, code: 0 },
    { name: '--check', args: ['--check'], env: { ROLE: 'beat' }, code: 0 },
    { name: '--help', args: ['--help'], env: {}, code: 0 },
    { name: 'a usage error', args: ['--bogus'], env: {}, code: 64 },
  ];

  it.concurrent.each(scenarios)(
    '$name (exit $code)',
    async ({ args, env, stop, code }) => {
      using w = world({ ...secrets, ...env, SUPERVISOR_LOG_LEVEL: 'trace' });
      using run = await startSupervisor(args, { env: w.env });
      if (stop) {
        await waitForRecord(w.record, readyCount(1));
        run.signal('SIGTERM');
      }
      const exit = await within(run.exited, 20_000, 'exit');
      expect(exit.code).toBe(code);
      const output = run.stdout() + run.stderr();
      expect(output.length).toBeGreaterThan(0);
      for (const value of values) expect(output).not.toContain(value);
      if (stop) expect(readReport(w)?.env).toMatchObject(secrets); // …while the program gets every one of them
    },
    30_000,
  );
});

describe('running as root', () => {
  it.runIf(process.getuid?.() === 0)(
    "as root: one warning; as uid 10001 (the image's user): none, and the program runs as 10001",
    async () => {
      for (const uid of [undefined, 10001]) {
        using w = world({ ROLE: 'web', FAKE_EXIT: '0' });
        using run = await startSupervisor([], { env: w.env, ...(uid ? { uid } : {}) });
        const exit = await within(run.exited, 20_000, 'exit');
        expect(exit.code).toBe(0);
        const warnings = events(run.logs(), 'supervisor.root');
        if (uid === undefined) {
          expect(warnings).toHaveLength(1);
          expect(warnings[0]).toMatchObject({ level: 'warn', msg: expect.stringContaining('non-root') });
          expect(readReport(w)?.uid).toBe(0);
        } else {
          expect(warnings).toEqual([]);
          expect(readReport(w)?.uid).toBe(10001);
        }
      }
    },
    40_000,
  );
});
