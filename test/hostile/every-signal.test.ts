// Issue 12: every signal the supervisor can receive has a meaning, and none takes its default action. For each
// service role (the fake program in the place of gunicorn/celery), plain and under the image's tini in a PID namespace:
// the supervisor catches every signal of its tables from the moment it runs; each one that is not a stop request,
// sent to the supervisor itself, is logged and forwarded or dropped exactly as the role's table says, and neither
// the supervisor nor the program stops or is suspended; the TERM that follows is an ordinary graceful stop.
import { describe, expect, it } from 'vitest';
import { constants } from 'node:os';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { catches, pidOneOf, stat } from '../support/proc.js';
import { events, startSupervisor, supervisorPidOf } from '../support/supervisor.js';
import { eventually, within } from '../support/wait.js';
import { isReady, readRecord, waitForRecord, world } from '../support/world.js';
import { HANDLED_SIGNALS } from '../../src/signals/trap.js';
import { findRole } from '../../src/roles/index.js';

expectNothingLeftAfterAll();

const number = (signal: string) => (constants.signals as Record<string, number>)[signal]!;

describe('every signal of the tables, sent to the supervisor of a running program', () => {
  for (const roleName of ['web', 'worker', 'beat']) {
    const role = findRole(roleName)!;
    const notStops = HANDLED_SIGNALS.filter((s) => role.policy.rules[s].action === 'forward' || role.policy.rules[s].action === 'drop');
    for (const pidNamespace of [false, true]) {
      it(`ROLE=${roleName}${pidNamespace ? ' under tini' : ''}: ${notStops.length} signals logged and handled per the table, then TERM stops it gracefully`, async () => {
        using w = world({ ROLE: roleName, SUPERVISOR_LOG_LEVEL: 'info' });
        using run = await startSupervisor([], { env: w.env, pidNamespace });
        await waitForRecord(w.record, isReady);
        const pid = await supervisorPidOf(run, pidNamespace);
        for (const signal of HANDLED_SIGNALS) expect(catches(pid, number(signal)), `${signal} caught`).toBe(true);

        // One at a time: the kernel discards a pending stop signal (TSTP, TTIN, TTOU) when CONT is sent, and the reverse.
        const received = () => new Set(events(run.logs(), 'signal.received').map((l) => l.signal));
        for (const signal of notStops) {
          process.kill(pid, signal);
          expect(await eventually(() => received().has(signal), 20_000), `${signal} received`).toBe(true);
        }
        expect(stat(pid)?.state, 'the supervisor is not suspended').not.toBe('T');
        const logs = run.logs();
        expect(logs.filter((l) => l.event.startsWith('shutdown.') || l.event === 'child.exit')).toEqual([]);
        for (const signal of notStops) {
          const rule = role.policy.rules[signal];
          if (rule.action === 'forward')
            expect(
              logs.some((l) => l.event === 'signal.forwarded' && l.signal === signal),
              signal,
            ).toBe(true);
          else
            expect(
              logs.some((l) => l.event === 'signal.dropped' && l.signal === signal),
              signal,
            ).toBe(true);
        }

        run.signal('SIGTERM');
        const exit = await within(run.exited, 20_000, 'exit after TERM');
        const final = run.logs();
        expect(exit.code).toBe(0);
        expect(final.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
        expect(events(final, 'shutdown.graceful')).toHaveLength(1);
        // What reached the program: exactly the forwarded signals, and the one TERM.
        const reached = readRecord(w.record)
          .filter((e) => e.role === 'leader' && e.event === 'signal')
          .map((e) => e.signal);
        const forwarded = notStops.filter((s) => role.policy.rules[s].action === 'forward');
        expect(reached.filter((s) => s !== 'SIGTERM').sort()).toEqual(forwarded.filter((s) => reached.includes(s)).sort());
        expect(reached.filter((s) => s === 'SIGTERM')).toHaveLength(1);
        expect(w.alive()).toEqual([]);
      }, 60_000);
    }
  }

  for (const roleName of ['web', 'worker', 'beat']) {
    it(`ROLE=${roleName} under tini: SIGPWR to PID 1 (LXC/Incus's shutdown request) is a graceful stop`, async () => {
      using w = world({ ROLE: roleName, SUPERVISOR_LOG_LEVEL: 'info' });
      using run = await startSupervisor([], { env: w.env, pidNamespace: true });
      await waitForRecord(w.record, isReady);
      run.signal('SIGPWR');
      const exit = await within(run.exited, 20_000, 'exit after PWR');
      const logs = run.logs();
      expect(exit.code).toBe(0);
      expect(events(logs, 'shutdown.graceful')).toEqual([expect.objectContaining({ signal: 'SIGTERM', target: 'leader' })]);
      expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
    }, 60_000);
  }

  it('a real-time signal (no name in Node, nothing can listen) to PID 1 ends the supervisor as the README says; the namespace takes the program', async () => {
    using w = world({ ROLE: 'worker', SUPERVISOR_LOG_LEVEL: 'info' });
    using run = await startSupervisor([], { env: w.env, pidNamespace: true });
    await waitForRecord(w.record, isReady);
    const SIGRTMIN = 34;
    process.kill(pidOneOf(run.proc.pid!), SIGRTMIN); // tini, PID 1, which passes it on
    const exit = await within(run.exited, 20_000, 'exit after SIGRTMIN');
    expect(exit.code).toBe(128 + SIGRTMIN);
    expect(run.logs().some((l) => l.event === 'supervisor.exit')).toBe(false);
    expect(await eventually(() => w.alive().length === 0, 5000)).toBe(true);
  }, 60_000);
});
