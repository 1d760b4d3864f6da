// What the log says about a stop (shutdown.summary) and how it reads (SUPERVISOR_LOG_FORMAT), with the built
// bundle and the fake child. Every JSON line these runs write is also checked against the schema after the run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach } from '../support/cleanup.js';
import { supervisorLines } from '../support/log-lines.js';
import { NODE, ROOT, SUPERVISOR } from '../support/paths.js';
import { type LogLine, type Running, type RunOptions, startSupervisor } from '../support/supervisor.js';
import { readyCount, waitForRecord, world, type World } from '../support/world.js';

let w: World;

cleanUpAfterEach({ expectNothingLeft: true });

async function start(args: string[], env: Record<string, string>, options: Omit<RunOptions, 'env'> = {}): Promise<Running> {
  w = world(env);
  return startSupervisor(args, { env: w.env, ...options });
}

/** The run's lines once it exited, and its summary, which must come right before supervisor.exit. */
async function summaryOf(run: Running): Promise<{ code: number | null; summary: LogLine; logs: LogLine[] }> {
  const { code } = await run.exited;
  const logs = run.logs();
  expect(logs.map((l) => l.event).slice(-2), run.stderr()).toEqual(['shutdown.summary', 'supervisor.exit']);
  const summary = logs.at(-2)!;
  expect(summary.exit_code).toBe(code);
  return { code, summary, logs };
}

describe('shutdown.summary: one line before supervisor.exit on every stop', () => {
  it('a program that exits on its own: the cause, its code, no phases', async () => {
    const { code, summary } = await summaryOf(await start(['--', 'fake-child'], { FAKE_EXIT: '3' }));
    expect(code).toBe(3);
    expect(summary).toMatchObject({
      cause: 'program_exited',
      stop_signal: null,
      program_code: 3,
      program_signal: null,
      phases: [],
      escalated: [],
      total_ms: 0,
    });
    expect(summary.msg).toBe('the program exited with code 3; exit code 3');
  });

  it('a program that crashes: killed by a signal nobody of ours sent', async () => {
    const { code, summary } = await summaryOf(await start(['--', 'fake-child'], { FAKE_DIE_BY: 'SIGSEGV' }));
    expect(code).toBe(139);
    expect(summary).toMatchObject({
      cause: 'program_killed',
      stop_signal: null,
      program_code: null,
      program_signal: 'SIGSEGV',
      escalated: [],
    });
  });

  it('a graceful stop: TERM, one graceful phase, nothing escalated', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_ON_TERM: 'exit:0' });
    await waitForRecord(w.record, readyCount(1));
    run.signal('SIGTERM');
    const { code, summary } = await summaryOf(run);
    expect(code).toBe(0);
    expect(summary).toMatchObject({
      cause: 'stop_signal',
      stop_signal: 'SIGTERM',
      program_code: 0,
      escalated: [],
      survivors: 0,
      escapees: 0,
    });
    // The stop signal's step is not counted: reading /proc would delay the stop itself.
    expect(summary.phases).toEqual([{ phase: 'graceful', signal: 'SIGTERM', target: 'leader', processes: null, ms: expect.any(Number) }]);
    expect(summary.total_ms).toBe((summary.phases as { ms: number }[])[0]!.ms);
  });

  it('a graceful stop whose program leaves processes behind: the hard step takes them, no SIGKILL needed', async () => {
    const run = await start(['--', 'fake-child'], {
      FAKE_ON_TERM: 'exit:0',
      FAKE_GRANDCHILDREN: '2',
      FAKE_GRANDCHILD_ON_TERM: 'exit:0',
      STOP_TIMEOUT: '0.5',
      ESCALATION_GRACE: '5',
    });
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGTERM');
    const { code, summary } = await summaryOf(run);
    expect(code).toBe(0);
    const phases = summary.phases as { phase: string; signal: string | null; target: string | null; processes: number }[];
    expect(phases.map((p) => `${p.phase}:${p.signal}:${p.target}`)).toEqual(['graceful:SIGTERM:leader', 'hard:SIGTERM:group']);
    // The grandchildren get nothing before the group step: both are still there when it comes.
    expect(phases.map((p) => p.processes)).toEqual([null, 2]);
    expect(summary).toMatchObject({ cause: 'stop_signal', program_code: 0, escalated: ['hard'] });
  });

  it('a stop that escalates: each phase with what was sent, how many processes were left and how long it took', async () => {
    const run = await start(['--', 'fake-child'], {
      FAKE_ON_TERM: 'ignore',
      FAKE_GRANDCHILDREN: '2',
      STOP_TIMEOUT: '0.5',
      ESCALATION_GRACE: '0.5',
    });
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGINT');
    const { code, summary, logs } = await summaryOf(run);
    expect(code).toBe(137);
    const phases = summary.phases as { phase: string; signal: string; target: string; processes: number | null; ms: number }[];
    // A one-off command: INT passed on as sent; the hard step is TERM to the group (the grandchildren ignore it).
    expect(phases.map(({ phase, signal, target, processes }) => ({ phase, signal, target, processes }))).toEqual([
      { phase: 'graceful', signal: 'SIGINT', target: 'leader', processes: null },
      { phase: 'hard', signal: 'SIGTERM', target: 'group', processes: 3 },
      { phase: 'kill', signal: 'SIGKILL', target: 'group', processes: 3 },
    ]);
    expect(summary).toMatchObject({ cause: 'stop_signal', stop_signal: 'SIGINT', program_signal: 'SIGKILL', escalated: ['hard', 'kill'] });
    // The phases add up to the whole stop, and each deadline is where the escalate lines put it.
    expect(phases.reduce((sum, p) => sum + p.ms, 0)).toBe(summary.total_ms);
    // The escalate lines count from the stop request, the phases from just after the stop signal went out
    // (one /proc read later): generous bounds only, against a phase that is missing or counted twice.
    const [hard, kill] = logs.filter((l) => l.event === 'shutdown.escalate').map((l) => l.after_ms as number);
    expect(Math.abs(phases[0]!.ms - hard!)).toBeLessThan(250);
    expect(Math.abs(phases[0]!.ms + phases[1]!.ms - kill!)).toBeLessThan(250);
    expect(summary.msg).toMatch(
      /^stop requested by SIGINT, took \d+\.\d\d s: graceful \d+\.\d\d s \(SIGINT to the leader\), hard \d+\.\d\d s \(SIGTERM to the group, 3 processes\), kill \d+\.\d\d s \(SIGKILL to the group, 3 processes\); exit code 137$/,
    );
  });

  it('the program exits but leaves its group: the wait for the rest is the graceful phase, then the kill', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_GRANDCHILDREN: '2', FAKE_EXIT: '0', STOP_TIMEOUT: '0.3', ESCALATION_GRACE: '0' });
    const { code, summary } = await summaryOf(run);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ cause: 'program_exited', program_code: 0, escalated: ['hard', 'kill'] });
    expect(
      (summary.phases as { phase: string; signal: string | null; processes: number }[]).map(({ phase, signal, processes }) => ({
        phase,
        signal,
        processes,
      })),
    ).toEqual([
      { phase: 'graceful', signal: null, processes: 2 },
      { phase: 'hard', signal: 'SIGTERM', processes: 2 },
      { phase: 'kill', signal: 'SIGKILL', processes: 2 },
    ]);
  });

  // A stop before the program started (shutdown.before_start, then the summary): test/hostile/startup-race.test.ts.
});

describe('SUPERVISOR_LOG_FORMAT', () => {
  const pretty = /^\d\d:\d\d:\d\d\.\d{3} (INFO |WARN |ERROR|FATAL|DEBUG|TRACE) supervisor\[\d+\] [a-z_]+\.[a-z_]+ +\S/;

  it('auto on a pipe, and json: one JSON object per line', async () => {
    for (const format of ['auto', 'json']) {
      const run = await start(['--', 'fake-child'], { FAKE_EXIT: '0', SUPERVISOR_LOG_FORMAT: format });
      await run.exited;
      const lines = run.stderr().split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(3);
      expect(supervisorLines(run.stderr())).toEqual(lines);
      expect(run.logs().at(0)).toMatchObject({ event: 'supervisor.start', log_format: format });
    }
  });

  it('pretty: one readable line per event, same events, fields after the message, no escape sequences in a pipe', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_EXIT: '4', SUPERVISOR_LOG_FORMAT: 'pretty' });
    expect((await run.exited).code).toBe(4);
    const lines = run.stderr().split('\n').filter(Boolean);
    expect(
      lines.filter((line) => !pretty.test(line)),
      run.stderr(),
    ).toEqual([]);
    expect(lines.map((line) => line.split(/\s+/)[3])).toEqual(
      expect.arrayContaining(['supervisor.start', 'child.spawn', 'child.exit', 'shutdown.summary', 'supervisor.exit']),
    );
    expect(lines.at(-1)).toMatch(/ supervisor\.exit +exiting with code 4 {2}code=4$/);
    expect(lines.find((line) => line.includes(' child.spawn '))).toMatch(
      /started fake-child as pid (\d+) in its own process group {2}child_pid=\1 argv=\["fake-child"\]$/,
    );
    expect(run.stderr()).not.toContain('\x1b');
  });

  it('auto on a terminal: pretty, with colours (and none with NO_COLOR)', () => {
    w = world({ FAKE_EXIT: '0' });
    const onTerminal = (env: Record<string, string>) =>
      spawnSync('python3', [join(ROOT, 'test', 'fixtures', 'on-a-terminal.py'), NODE, SUPERVISOR, '--', 'fake-child'], {
        env: { HOME: '/tmp', SUPERVISOR_LOG_LEVEL: 'debug', ...w.env, ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const coloured = onTerminal({});
    expect(coloured.status, coloured.stderr).toBe(0);
    const lines = coloured.stdout.split(/\r?\n/).filter(Boolean);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((line) => line.includes('\x1b['))).toBe(true);
    const plain = onTerminal({ NO_COLOR: '1' });
    const plainLines = plain.stdout.split(/\r?\n/).filter(Boolean);
    expect(plainLines.filter((line) => !pretty.test(line))).toEqual([]);
    expect(plainLines.map((line) => line.split(/\s+/)[3])).toEqual(
      lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, '').split(/\s+/)[3]),
    );
    const json = onTerminal({ SUPERVISOR_LOG_FORMAT: 'json' });
    expect(
      json.stdout
        .split(/\r?\n/)
        .filter(Boolean)
        .every((line) => line.startsWith('{"level":')),
    ).toBe(true);
  });

  it('on a pipe, the default (auto) loads no module the JSON-only supervisor did not: the terminal check is one fstat', () => {
    w = world({ FAKE_EXIT: '0' });
    const loaded = (env: Record<string, string>) => {
      const result = spawnSync(NODE, ['-r', join(ROOT, 'test', 'fixtures', 'loaded-modules.cjs'), SUPERVISOR, '--', 'fake-child'], {
        env: { HOME: '/tmp', ...w.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status, String(result.stderr)).toBe(0);
      return JSON.parse(String(result.output[3])) as string[];
    };
    const auto = loaded({});
    expect(auto).toContain('child_process'); // the list is real
    expect(auto.filter((m) => /tty/.test(m))).toEqual([]);
    expect(loaded({ SUPERVISOR_LOG_FORMAT: 'json' })).toEqual(auto);
  });

  it('an invalid format is reported like any invalid variable, and nothing starts', async () => {
    const run = await start(['--', 'fake-child'], { SUPERVISOR_LOG_FORMAT: 'yaml' });
    expect((await run.exited).code).toBe(78);
    expect(run.logs().find((l) => l.event === 'config.invalid')).toMatchObject({
      variable: 'SUPERVISOR_LOG_FORMAT',
      value: 'yaml',
      expected: 'one of auto, json, pretty',
    });
    expect(run.logs().some((l) => l.event === 'child.spawn')).toBe(false);
  });
});
