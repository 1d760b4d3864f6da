// A stop request that reaches the supervisor after its signal trap exists but before it spawns the program means
// the program is never started (README, Stopping). Deterministic: the supervisor is held at its first log line
// (a full, blocking stderr pipe: fixtures/blocked-stderr.py) — after the trap, before the pre-start check — and
// the stop request is delivered there. Node hands a signal to JavaScript only in its event loop, so the check must
// give the loop a turn, or the request is seen only after the spawn.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { NODE, SUPERVISOR, TEST_PATH } from '../support/paths.js';
import { parseLog } from '../support/supervisor.js';
import { world } from '../support/world.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

expectNothingLeftAfterAll();

async function stopAtFirstLogLine(signal: string, args: string[], env: Record<string, string>) {
  const { stdout } = await execa('python3', [join(FIXTURES, 'blocked-stderr.py'), signal, NODE, SUPERVISOR, ...args], {
    env: { PATH: TEST_PATH, HOME: '/tmp', SUPERVISOR_LOG_LEVEL: 'info', ...env },
    extendEnv: false,
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as { exit: number; stderr: string; error?: string };
  expect(result.error).toBeUndefined();
  return { exit: result.exit, lines: parseLog(result.stderr) };
}

describe('a stop request before the spawn', () => {
  for (const [signal, number] of [
    ['SIGTERM', 15],
    ['SIGINT', 2],
    ['SIGPWR', 30],
  ] as const) {
    it(`${signal} held at the first log line: the program is never started, exit ${128 + number}`, async () => {
      using w = world();
      const started = join(w.dir, 'program-ran');
      const { exit, lines } = await stopAtFirstLogLine(signal, ['--', 'touch', started], w.env);
      expect(lines[0]?.event).toBe('supervisor.start'); // the line it was held at
      expect(lines.find((l) => l.event === 'signal.received')).toMatchObject({ signal, state: 'starting' });
      expect(lines.some((l) => l.event === 'shutdown.before_start')).toBe(true);
      expect(lines.some((l) => l.event === 'child.spawn')).toBe(false);
      expect(existsSync(started), 'the program ran').toBe(false);
      expect(lines.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 128 + number });
      expect(exit).toBe(128 + number);
    });
  }

  it('a signal that is no stop request at the same moment is dropped, and the program runs', async () => {
    using w = world();
    const started = join(w.dir, 'program-ran');
    const { exit, lines } = await stopAtFirstLogLine('SIGUSR2', ['--', 'touch', started], { ...w.env, ROLE: 'worker' });
    expect(lines.find((l) => l.event === 'signal.received')).toMatchObject({ signal: 'SIGUSR2', state: 'starting' });
    expect(lines.find((l) => l.event === 'signal.dropped')).toMatchObject({ signal: 'SIGUSR2' });
    expect(lines.some((l) => l.event === 'child.spawn')).toBe(true);
    expect(existsSync(started)).toBe(true);
    expect(exit).toBe(0);
  });
});
