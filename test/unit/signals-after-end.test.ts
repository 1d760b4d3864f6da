// Once the program and its whole group are gone, the stop sequence is finished: a signal that arrives before the
// supervisor exits is logged and dropped, not fed to the finished sequence (which would log a late TERM as
// "ignored: a stop is already in progress", or try to forward to a pid that no longer exists).
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { loadPlan } from '../../src/plan/load.js';
import { supervise } from '../../src/supervise/supervise.js';
import type { HandledSignal } from '../../src/signals/trap.js';

describe('signals after the program has ended', () => {
  it('are dropped with "the program has ended", by a handler that replaced the stop sequence', async () => {
    const loaded = loadPlan({ PATH: process.env.PATH }, ['true']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', 'json', { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const handlers: ((signal: HandledSignal) => void)[] = [];

    const code = await supervise(loaded.plan, '/bin/true', log, { onSpawn: () => {}, routeSignals: (next) => handlers.push(next) });
    expect(code).toBe(0);
    expect(handlers).toHaveLength(2); // the stop sequence while the program ran, then the one for after the end

    const before = lines.length;
    handlers.at(-1)!('SIGTERM');
    handlers.at(-1)!('SIGHUP');
    expect(lines.slice(before).map(({ event, signal, why }) => ({ event, signal, why }))).toEqual([
      { event: 'signal.dropped', signal: 'SIGTERM', why: 'the program has ended' },
      { event: 'signal.dropped', signal: 'SIGHUP', why: 'the program has ended' },
    ]);
  });
});
