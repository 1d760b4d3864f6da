// Signal storms and repeated stop requests against the real binary, with the fake program in the place of
// gunicorn/celery so each role's real policy is exercised and every signal the leader receives is recorded.
import { describe, expect, it } from 'vitest';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { sampleRss } from '../support/proc.js';
import { events, startSupervisor, supervisorPidOf } from '../support/supervisor.js';
import { sleep, within } from '../support/wait.js';
import { isReady, readRecord, type RecordedEvent, waitForRecord, world } from '../support/world.js';

expectNothingLeftAfterAll();

const leaderSignals = (record: RecordedEvent[]) => record.filter((e) => e.role === 'leader' && e.event === 'signal').map((e) => e.signal!);
const count = <T>(items: T[], item: T) => items.filter((x) => x === item).length;

/** Sends `total` signals drawn round-robin from `kinds` to `send`, in bursts of 50 per event-loop turn. */
async function storm(send: (signal: NodeJS.Signals) => void, kinds: NodeJS.Signals[], total: number): Promise<void> {
  for (let i = 0; i < total; i++) {
    send(kinds[(i * 7 + (i >> 3)) % kinds.length]!);
    if (i % 50 === 49) await new Promise((done) => setImmediate(done));
  }
}

describe('a storm of thousands of signals, then TERM', () => {
  const cases = [
    // web forwards HUP/USR1/TTIN to the gunicorn master; worker forwards USR1 and drops HUP/TTIN.
    { role: 'web', pidNamespace: false, total: 3000, forwarded: ['SIGHUP', 'SIGUSR1', 'SIGTTIN'], dropped: [] as string[] },
    { role: 'worker', pidNamespace: false, total: 3000, forwarded: ['SIGUSR1'], dropped: ['SIGHUP', 'SIGTTIN'] },
    // tini never forwards TTIN/TTOU: under tini the storm is HUP/USR1 only.
    { role: 'web', pidNamespace: true, total: 2000, forwarded: ['SIGHUP', 'SIGUSR1'], dropped: [] as string[] },
  ] as const;

  for (const c of cases) {
    it(`ROLE=${c.role}${c.pidNamespace ? ' under tini' : ''}: responsive, bounded memory, exactly one TERM reaches the leader`, async () => {
      // The leader lingers 500 ms after TERM, so a second stop signal would still be recorded.
      using w = world({ ROLE: c.role, FAKE_ON_TERM: 'exit-after:500:0', SUPERVISOR_LOG_LEVEL: 'info' });
      using run = await startSupervisor([], { env: w.env, pidNamespace: c.pidNamespace });
      await waitForRecord(w.record, isReady); // before its handlers exist, HUP would kill a node program
      const pid = await supervisorPidOf(run, c.pidNamespace);
      const memory = sampleRss(pid);
      const kinds: NodeJS.Signals[] = c.pidNamespace ? ['SIGHUP', 'SIGUSR1'] : ['SIGHUP', 'SIGUSR1', 'SIGTTIN'];
      await storm(run.signal, kinds, c.total);
      const termAt = Date.now();
      run.signal('SIGTERM');
      // More of everything during the stop, stop requests included: none may send a second TERM.
      await storm(run.signal, [...kinds, 'SIGTERM', 'SIGINT'], 500);
      const graceful = await run.waitForLog((l) => l.event === 'shutdown.graceful', 15_000);
      const exit = await within(run.exited, 20_000, 'exit after the storm');
      const maxRssKb = memory.stop();
      const logs = run.logs();
      const received = leaderSignals(readRecord(w.record));
      console.log(
        `storm ROLE=${c.role}${c.pidNamespace ? ' (tini)' : ''}: ${c.total + 501} sent, ${events(logs, 'signal.received').length} received by the supervisor, ` +
          `${received.length} reached the leader, TERM→graceful ${Date.parse(graceful.time as string) - termAt} ms, max RSS ${Math.round(maxRssKb / 1024)} MB`,
      );

      expect(count(received, 'SIGTERM')).toBe(1);
      expect(count(received, 'SIGINT')).toBe(0);
      expect(events(logs, 'shutdown.graceful')).toHaveLength(1);
      for (const signal of c.forwarded) expect(count(received, signal), `${signal} forwarded`).toBeGreaterThan(0);
      for (const signal of c.dropped) {
        expect(count(received, signal), `${signal} must be dropped`).toBe(0);
        expect(events(logs, 'signal.dropped').some((l) => l.signal === signal)).toBe(true);
      }
      // The policy's end state: the program stopped gracefully by itself, and so did the supervisor.
      expect(exit.code).toBe(0);
      expect(logs.find((l) => l.event === 'child.exit')).toMatchObject({ code: 0, signal: null });
      expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
      expect(events(logs, 'shutdown.escalate')).toEqual([]);
      // Bounded: a Node process at rest is ~50 MB here; thousands of signals must not grow it materially.
      expect(maxRssKb).toBeLessThan(150 * 1024);
      expect(w.alive()).toEqual([]);
    }, 90_000);
  }
});

describe('repeated stop requests: one graceful signal, the deadline is not reset', () => {
  // STOP_TIMEOUT 1.5 s, ESCALATION_GRACE 1 s; the program ignores TERM and INT so the whole sequence runs while
  // TERM, INT, TERM, … keep arriving every 100 ms for 3.5 s.
  const cases = [
    { role: 'web', drain: 0, expected: ['SIGTERM', 'SIGQUIT'] },
    { role: 'web', drain: 0.5, expected: ['SIGTERM', 'SIGQUIT'] },
    { role: 'worker', drain: 0, expected: ['SIGTERM', 'SIGQUIT'] },
    { role: 'beat', drain: 0, expected: ['SIGTERM'] },
    { role: 'command', drain: 0, expected: ['SIGTERM', 'SIGTERM'] }, // the hard-stop step is TERM to the whole group
  ];

  it.concurrent.each(cases)(
    'ROLE=$role DRAIN_DELAY=$drain: the leader gets exactly $expected, on time',
    async ({ role, drain, expected }) => {
      using w = world({
        ...(role === 'command' ? {} : { ROLE: role }),
        DRAIN_DELAY: String(drain),
        STOP_TIMEOUT: '1.5',
        ESCALATION_GRACE: '1',
        FAKE_ON_TERM: 'ignore',
        FAKE_ON_INT: 'ignore',
        SUPERVISOR_LOG_LEVEL: 'info',
      });
      using run = await startSupervisor(role === 'command' ? ['--', 'gunicorn'] : [], { env: w.env });
      await waitForRecord(w.record, isReady);
      const firstAt = Date.now();
      const repeats = ['SIGTERM', 'SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT', 'SIGINT'] as const;
      for (let i = 0; Date.now() - firstAt < 3500 && run.proc.exitCode === null && run.proc.signalCode === null; i++) {
        run.signal(repeats[i % repeats.length]!);
        await sleep(100);
      }
      const exit = await within(run.exited, 15_000, 'exit');
      const logs = run.logs();
      const record = readRecord(w.record).filter((e) => e.role === 'leader' && e.event === 'signal');

      expect(record.map((e) => e.signal)).toEqual(expected);
      expect(events(logs, 'shutdown.graceful')).toHaveLength(1);
      expect(events(logs, 'signal.ignored').length).toBeGreaterThan(5);
      // The graceful signal after the drain delay, the hard step STOP_TIMEOUT after it: measured from the first
      // request, never from a later one (a reset would put the hard step ≥ 1.5 s after the last repeat).
      const stopMs = drain * 1000;
      expect(record[0]!.t - firstAt).toBeGreaterThanOrEqual(stopMs - 50);
      expect(record[0]!.t - firstAt).toBeLessThan(stopMs + 700);
      const escalations = events(logs, 'shutdown.escalate');
      expect(escalations.at(-1)).toMatchObject({ signal: 'SIGKILL', target: 'group' });
      const hard = escalations[0]!;
      expect(hard.after_ms as number).toBeGreaterThanOrEqual(stopMs + 1500);
      expect(hard.after_ms as number).toBeLessThan(stopMs + 1500 + 800);
      if (expected.length === 2) {
        expect(record[1]!.t - record[0]!.t).toBeGreaterThanOrEqual(1450);
        expect(record[1]!.t - record[0]!.t).toBeLessThan(1500 + 800);
      }
      expect(exit.code).toBe(137); // nothing stopped it but SIGKILL
      expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 137 });
      expect(w.alive()).toEqual([]);
    },
    30_000,
  );
});
