// A stop request at a random moment of start-up (0–200 ms after the process was started), hundreds of times,
// plain and under the image's tini as PID 1 of a PID namespace. Whatever the moment:
//  - nothing the supervisor started outlives it (every descendant carries a marker; none is alive at exit),
//  - it exits promptly (STOP_TIMEOUT/ESCALATION_GRACE are short here; the bound is generous),
//  - its last log line is supervisor.exit with the code it exits with — except in the first tens of
//    milliseconds of Node's own boot, before any JavaScript runs: there the default action of SIGTERM ends
//    the process (exit 128+15), nothing was spawned yet, and no line can be written. That window is
//    measured and reported here, and checked to hold no child.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { FAKE_CHILD } from '../support/paths.js';
import { catches } from '../support/proc.js';
import { exitOf, foreignLines, startSupervisor, supervisorPidOf } from '../support/supervisor.js';
import { eventually, inPool, sleep } from '../support/wait.js';
import { world } from '../support/world.js';

const RUNS = { plain: 160, tini: 100, atTrap: 30 };
const CONCURRENCY = 4;
const MAX_DELAY_MS = 200;

type Phase = 'before-trap' | 'before-spawn' | 'running';

interface Outcome {
  delay: number;
  phase: Phase;
  exitCode: number | null;
  exitSignal: string | null;
  lastEvent: string | undefined;
  lastCode: unknown;
  /** The line before supervisor.exit: shutdown.summary on every stop, before the program started or after. */
  summary: { event: unknown; exitCode: unknown; cause: unknown; stopSignal: unknown };
  tookMs: number;
  orphans: number[];
  foreign: string[];
  childStarted: boolean;
}

/** `delay` ms after the start, or (delay = 'trap') the instant the supervisor's SIGTERM handler exists. */
async function raceOnce(delay: number | 'trap', pidNamespace: boolean): Promise<Outcome> {
  // One grandchild that ignores TERM: after the leader stops, the group still needs the escalation path.
  using w = world({ FAKE_GRANDCHILDREN: '1', STOP_TIMEOUT: '0.5', ESCALATION_GRACE: '0.5', SUPERVISOR_LOG_LEVEL: 'info' });
  using run = await startSupervisor(['--', 'node', FAKE_CHILD], { env: w.env, pidNamespace });
  if (delay === 'trap') {
    const pid = await supervisorPidOf(run, pidNamespace);
    // Node itself catches TERM from its first instant (to restore the terminal, then die by the default action),
    // so TERM's mask says nothing. The trap installs every listener in one synchronous loop, HUP included, and
    // Node's boot never catches HUP: HUP caught means the supervisor's TERM listener exists.
    await eventually(() => catches(pid, 1), 10_000, 0);
  } else {
    await sleep(delay);
  }
  const sentAt = Date.now();
  run.signal('SIGTERM');
  // Seen once in ~500 runs before issue 12: a hang fails the test (no retry) and prints the /proc picture of
  // everything left, the supervisor's threads included, so one on a loaded runner can be read from the CI log.
  const exit = await exitOf(run, 20_000, `run with delay ${delay} ms`, w.alive);
  // Measured on the supervisor's own clock when it logged its exit: a starved test process cannot inflate it.
  const exitLine = run.logs().find((l) => l.event === 'supervisor.exit');
  const tookMs = (exitLine ? Date.parse(exitLine.time as string) : Date.now()) - sentAt;
  const orphans = w.alive(); // at the moment the supervisor (or tini) has exited
  w.cleanup();
  const lines = run.logs();
  const phase: Phase = lines.length === 0 ? 'before-trap' : lines.some((l) => l.event === 'child.spawn') ? 'running' : 'before-spawn';
  return {
    delay: delay === 'trap' ? -1 : delay,
    phase,
    exitCode: exit.code,
    exitSignal: exit.signal,
    lastEvent: lines.at(-1)?.event,
    lastCode: lines.at(-1)?.code,
    summary: {
      event: lines.at(-2)?.event,
      exitCode: lines.at(-2)?.exit_code,
      cause: lines.at(-2)?.cause,
      stopSignal: lines.at(-2)?.stop_signal,
    },
    tookMs,
    orphans,
    foreign: foreignLines(run.stderr()),
    childStarted: existsSync(w.record),
  };
}

function check(outcomes: Outcome[], pidNamespace: boolean): void {
  const phases: Record<string, number> = {};
  for (const o of outcomes) phases[o.phase] = (phases[o.phase] ?? 0) + 1;
  const window = outcomes.filter((o) => o.phase === 'before-trap').map((o) => o.delay);
  console.log(
    `${pidNamespace ? 'tini in a PID namespace' : 'plain'}: ${outcomes.length} runs, phases ${JSON.stringify(phases)}, ` +
      `no-line window up to ${window.length ? Math.max(...window) : 0} ms after start, slowest exit ${Math.max(...outcomes.map((o) => o.tookMs))} ms`,
  );
  for (const o of outcomes) {
    const where = `delay ${o.delay} ms, phase ${o.phase}`;
    expect(o.orphans, `orphans (${where})`).toEqual([]);
    expect(o.foreign, `non-JSON stderr, e.g. a stack trace (${where})`).toEqual([]);
    expect(o.tookMs, `exit after the stop request (${where})`).toBeLessThan(10_000);
    if (o.phase === 'before-trap') {
      // Killed by SIGTERM's default action before any JavaScript ran: no line, no child.
      if (pidNamespace) expect(o.exitCode, where).toBe(143);
      else expect(o.exitSignal, where).toBe('SIGTERM');
      expect(o.childStarted, `a child started although the supervisor never ran (${where})`).toBe(false);
    } else {
      expect(o.lastEvent, `last log line (${where})`).toBe('supervisor.exit');
      expect(o.lastCode, `supervisor.exit code vs the exit status (${where})`).toBe(o.exitCode);
      expect(o.summary, `shutdown.summary before supervisor.exit (${where})`).toEqual({
        event: 'shutdown.summary',
        exitCode: o.exitCode,
        cause: 'stop_signal',
        stopSignal: 'SIGTERM',
      });
      if (o.phase === 'before-spawn') expect(o.childStarted, where).toBe(false);
    }
  }
  // Which phases the delays hit depends on the machine's load (Node's boot takes 40 ms idle, 200 ms and more on
  // a busy 2-core runner), so no share is asserted here; the test below hits the post-trap path every time.
}

describe('a stop request at a random moment of start-up', () => {
  expectNothingLeftAfterAll();

  for (const pidNamespace of [false, true]) {
    const runs = pidNamespace ? RUNS.tini : RUNS.plain;
    it(
      `${runs} runs ${pidNamespace ? 'under tini as PID 1' : 'without tini'}: no orphan, prompt exit, supervisor.exit last`,
      { timeout: 240_000 },
      async () => {
        // Delays spread evenly over 0..200 ms, in a shuffled order so concurrent runs do not march in step.
        const delays = Array.from({ length: runs }, (_, i) => Math.round((i * MAX_DELAY_MS) / (runs - 1)));
        for (let i = delays.length - 1; i > 0; i--) {
          const j = (i * 7919) % (i + 1);
          [delays[i], delays[j]] = [delays[j]!, delays[i]!];
        }
        const outcomes = await inPool(delays, CONCURRENCY, (delay) => raceOnce(delay, pidNamespace));
        check(outcomes, pidNamespace);
      },
    );
  }

  it(`${RUNS.atTrap} runs with TERM the instant the signal trap exists: the run always ends with its own supervisor.exit`, async () => {
    const outcomes = await inPool(
      Array.from({ length: RUNS.atTrap }, (_, i) => i % 2 === 1),
      CONCURRENCY,
      (pidNamespace) => raceOnce('trap', pidNamespace),
    );
    const phases = outcomes.map((o) => o.phase);
    console.log(
      `TERM at the trap: phases ${JSON.stringify(phases.reduce<Record<string, number>>((n, p) => ({ ...n, [p]: (n[p] ?? 0) + 1 }), {}))}`,
    );
    for (const o of outcomes) {
      expect(o.orphans).toEqual([]);
      expect(o.foreign).toEqual([]);
      expect(o.phase).not.toBe('before-trap'); // the handler existed: the run must end with its own line
      expect(o.lastEvent).toBe('supervisor.exit');
      expect(o.lastCode).toBe(o.exitCode);
      expect(o.summary).toEqual({ event: 'shutdown.summary', exitCode: o.exitCode, cause: 'stop_signal', stopSignal: 'SIGTERM' });
      if (o.phase === 'before-spawn') expect(o.exitCode).toBe(143); // stop before start: 128+SIGTERM, nothing started
    }
  }, 120_000);
});
