// A signal the supervisor passes on reaches the program before the supervisor writes a line about it: a log line is a
// write(2) to stderr, which waits while nobody reads the pipe (a stalled log collector), and passing a stop request
// on must not wait for it. Deterministic: once the program is ready, the supervisor's stderr pipe is filled to the
// brim (fixtures/stderr-full-at-signal.py), the signal is sent, and the program's record is read while the pipe is
// still full; then the pipe is drained and the log must tell the whole story, in order.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { NODE, SUPERVISOR } from '../support/paths.js';
import { parseLog } from '../support/supervisor.js';
import { type RecordedEvent, world } from '../support/world.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

expectNothingLeftAfterAll();

async function signalWithStderrFull(signal: string, env: Record<string, string>, record: string) {
  const { stdout } = await execa('python3', [join(FIXTURES, 'stderr-full-at-signal.py'), signal, record, NODE, SUPERVISOR], {
    env: { HOME: '/tmp', SUPERVISOR_LOG_LEVEL: 'info', ...env },
    extendEnv: false,
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as { while_full: RecordedEvent[]; blocked: boolean; exit: number; stderr: string; error?: string };
  expect(result.error).toBeUndefined();
  return { ...result, events: parseLog(result.stderr).map((l) => l.event) };
}

describe("a signal passed on while the supervisor's stderr is full", () => {
  it('a stop request (TERM) reaches the program; the log, once read, says it in order', async () => {
    using w = world({ ROLE: 'web', DRAIN_DELAY: '0' });
    const result = await signalWithStderrFull('SIGTERM', w.env, w.record);
    expect(result.while_full.filter((e) => e.role === 'leader' && e.event === 'signal').map((e) => e.signal)).toEqual(['SIGTERM']);
    expect(result.blocked).toBe(true); // it did wait in its write meanwhile: the pipe really was full
    expect(result.exit).toBe(0);
    const after = result.events.slice(result.events.indexOf('child.spawn'));
    expect(after).toEqual(['child.spawn', 'signal.received', 'shutdown.graceful', 'child.exit', 'shutdown.summary', 'supervisor.exit']);
  }, 60_000);

  it('a forwarded signal (HUP to the gunicorn master) reaches the program; the log says it in order', async () => {
    using w = world({ ROLE: 'web', FAKE_ON_HUP: 'exit:0' });
    const result = await signalWithStderrFull('SIGHUP', w.env, w.record);
    expect(result.while_full.filter((e) => e.role === 'leader' && e.event === 'signal').map((e) => e.signal)).toEqual(['SIGHUP']);
    expect(result.blocked).toBe(true);
    const after = result.events.slice(result.events.indexOf('child.spawn'));
    expect(after.slice(0, 3)).toEqual(['child.spawn', 'signal.received', 'signal.forwarded']);
    expect(after.at(-1)).toBe('supervisor.exit');
  }, 60_000);
});
