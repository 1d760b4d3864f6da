// The built dist/supervisor.js, run for real with a fake child that records every signal it receives.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cleanUpAfterEach } from '../support/cleanup.js';
import { type LogLine, type Running, type RunOptions, startSupervisor } from '../support/supervisor.js';
import { IMAGE_ENTRYPOINT, TINI_GROUP_ENTRYPOINT } from '../support/paths.js';
import { readRecord, readyCount, type RecordedEvent, waitForRecord, world, type World } from '../support/world.js';
import { sleep } from '../support/wait.js';

let w: World;

cleanUpAfterEach();

const signalsOf = (events: RecordedEvent[], role: 'leader' | 'grandchild' = 'leader') =>
  events.filter((e) => e.event === 'signal' && e.role === role).map((e) => e.signal);

async function start(args: string[], env: Record<string, string>, options: Omit<RunOptions, 'env'> = {}): Promise<Running> {
  w = world(env);
  return startSupervisor(args, { env: w.env, ...options });
}

async function finished(run: Running) {
  const result = await run.exited;
  const logs = run.logs();
  expect(logs.at(-1)?.event, run.stderr()).toBe('supervisor.exit');
  // Every run that started the program says how it ended, right before supervisor.exit (an internal error aside).
  if (logs.some((l) => l.event === 'child.spawn') && !logs.some((l) => l.event === 'supervisor.error')) {
    expect(logs.at(-2), run.stderr()).toMatchObject({ event: 'shutdown.summary', exit_code: logs.at(-1)?.code });
  }
  // Whatever happened, nothing the supervisor started is left.
  expect(w.alive().length).toBe(0);
  return { ...result, logs, lastCode: logs.at(-1)?.code };
}

describe('exit codes pass through', () => {
  it.each([
    ['0', 0],
    ['3', 3],
    ['42', 42],
  ])('child exits %s', async (code, expected) => {
    const run = await start(['--', 'fake-child'], { FAKE_EXIT: code });
    const { code: exitCode, lastCode, logs } = await finished(run);
    expect(exitCode).toBe(expected);
    expect(lastCode).toBe(expected);
    expect(logs.find((l) => l.event === 'child.exit')).toMatchObject({ code: expected, signal: null });
  });

  it.each([
    ['SIGKILL', 137],
    ['SIGUSR2', 140],
  ])('child killed by %s -> 128+N', async (signal, expected) => {
    const run = await start(['--', 'fake-child'], { FAKE_DIE_BY: signal });
    const { code, logs } = await finished(run);
    expect(code).toBe(expected);
    expect(logs.find((l) => l.event === 'child.exit')).toMatchObject({ code: null, signal });
  });

  it('program not found -> 127, naming the program and PATH; not executable -> 126', async () => {
    let run = await start(['--', 'no-such-program-xyz'], {});
    let result = await finished(run);
    expect(result.code).toBe(127);
    const failure = result.logs.find((l) => l.event === 'child.spawn_failed')!;
    expect(failure.msg).toContain('no-such-program-xyz');
    expect(failure.msg).toContain('PATH=');
    run = await start(['--', '/etc/passwd'], {});
    result = await finished(run);
    expect(result.code).toBe(126);
  });
});

describe('configuration and command line', () => {
  it('invalid configuration: exit 78, one line per problem, nothing started', async () => {
    const run = await start([], { ROLE: 'web', PORT: 'eighty', WORKERS: '0', FAKE_EXIT: '0' });
    const { code, logs } = await finished(run);
    expect(code).toBe(78);
    const invalid = logs.filter((l) => l.event === 'config.invalid');
    expect(invalid.map((l) => l.variable).sort()).toEqual(['PORT', 'WORKERS']);
    expect(invalid.find((l) => l.variable === 'PORT')!.msg).toBe('PORT="eighty": expected an integer from 1 to 65535');
    expect(logs.some((l) => l.event === 'child.spawn')).toBe(false);
    expect(existsSync(w.record)).toBe(false);
  });

  it('unknown ROLE lists the valid roles and exits 78', async () => {
    const run = await start([], { ROLE: 'scheduler' });
    const { code, logs } = await finished(run);
    expect(code).toBe(78);
    expect(logs.find((l) => l.event === 'config.invalid')!.msg).toBe('ROLE="scheduler": expected one of web, worker, beat');
  });

  it('usage errors exit 64', async () => {
    for (const args of [['--bogus'], ['--']]) {
      const run = await start(args, {});
      const { code, logs } = await finished(run);
      expect(code).toBe(64);
      expect(logs.some((l) => l.event === 'usage.invalid')).toBe(true);
    }
  });

  it('--print shows the argv as JSON; --check validates; --version and --help print', async () => {
    let run = await start(['--print'], { ROLE: 'worker', CELERY_QUEUES: 'a,b' });
    expect((await finished(run)).code).toBe(0);
    expect(JSON.parse(run.stdout()).argv).toContain('-Q');
    run = await start(['--check'], { ROLE: 'beat' });
    expect((await finished(run)).code).toBe(0);
    run = await start(['--check'], { ROLE: 'beat', CELERY_LOGLEVEL: 'chatty' });
    expect((await finished(run)).code).toBe(78);
    run = await start(['--version'], {});
    expect((await run.exited).code).toBe(0);
    expect(run.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
    run = await start(['--help'], {});
    expect((await run.exited).code).toBe(0);
    for (const name of ['CELERY_CONCURRENCY', 'WSGI_APP', 'STOP_TIMEOUT', 'CELERY_BEAT_SCHEDULE', 'SIGHUP'])
      expect(run.stdout()).toContain(name);
  });

  it('variables the supervisor does not own reach the program untouched, and never its log', async () => {
    const secret = 'postgres://app:s3cr3t-Pa55@db:5432/eveai';
    const run = await start(['--', 'env'], { DATABASE_URL: secret, OPENAI_API_KEY: 'sk-live-abc123', ODD: ' spaces; $(not a shell) ' });
    const { code } = await finished(run);
    expect(code).toBe(0);
    expect(run.stdout()).toContain(`DATABASE_URL=${secret}\n`);
    expect(run.stdout()).toContain('ODD= spaces; $(not a shell) \n');
    expect(run.stderr()).not.toContain('s3cr3t');
    expect(run.stderr()).not.toContain('sk-live');
  });

  it('a worker ESCALATION_GRACE below what celery needs is valid but draws advice', async () => {
    const run = await start(['--check'], { ROLE: 'worker', ESCALATION_GRACE: '0.5' });
    const { code, logs } = await finished(run);
    expect(code).toBe(0);
    expect(logs.find((l) => l.event === 'config.advice')).toMatchObject({ variable: 'ESCALATION_GRACE', value: '0.5' });
  });

  it('a worker with REMAP_SIGTERM is refused before anything starts (78), the value not logged', async () => {
    const run = await start([], { ROLE: 'worker', REMAP_SIGTERM: 'SIGQUIT' });
    const { code, logs } = await finished(run);
    expect(code).toBe(78);
    expect(logs.find((l) => l.event === 'config.invalid')).toMatchObject({ variable: 'REMAP_SIGTERM', value: '(set, value not shown)' });
    expect(logs.some((l) => l.event === 'child.spawn')).toBe(false);
    expect(run.stderr()).not.toContain('SIGQUIT');
  });

  it('a near miss is warned about by name only, never with its value', async () => {
    const run = await start(['--check'], { WORKER: 'hunter2-secret', CELERY_CONCURENCY: '8' });
    await finished(run);
    const misses = run.logs().filter((l) => l.event === 'config.near_miss');
    expect(misses.map((l) => [l.variable, l.did_you_mean])).toEqual(
      expect.arrayContaining([
        ['WORKER', 'WORKERS'],
        ['CELERY_CONCURENCY', 'CELERY_CONCURRENCY'],
      ]),
    );
    expect(run.stderr()).not.toContain('hunter2-secret');
  });
});

describe('stopping', () => {
  it("TERM: exactly one TERM to the leader, none to the rest of the group; the child's code is returned", async () => {
    const run = await start(['--', 'fake-child'], {
      FAKE_ON_TERM: 'exit:7',
      FAKE_GRANDCHILDREN: '2',
      FAKE_GRANDCHILD_ON_TERM: 'exit:0',
      STOP_TIMEOUT: '1',
      ESCALATION_GRACE: '1',
    });
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGTERM');
    const { code, logs } = await finished(run);
    expect(code).toBe(7);
    const events = readRecord(w.record);
    expect(signalsOf(events)).toEqual(['SIGTERM']);
    // The grandchildren got nothing until the leader was gone: then the deadline took them (TERM to the group).
    const leaderExit = events.find((e) => e.role === 'leader' && e.event === 'exit')!;
    expect(events.filter((e) => e.role === 'grandchild' && e.event === 'signal').every((e) => e.t >= leaderExit.t)).toBe(true);
    expect(logs.map((l) => l.event)).toEqual(
      expect.arrayContaining(['signal.received', 'shutdown.graceful', 'child.exit', 'group.wait', 'supervisor.exit']),
    );
  });

  it('repeated stop requests: one TERM reaches the leader, and the deadline is not reset', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_ON_TERM: 'ignore', STOP_TIMEOUT: '1.5', ESCALATION_GRACE: '0.5' });
    await waitForRecord(w.record, readyCount(1));
    run.signal('SIGTERM');
    await run.waitForLog((l) => l.event === 'shutdown.graceful');
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGTERM', 'SIGTERM'] as const) {
      await sleep(200);
      run.signal(signal);
    }
    const { code, logs } = await finished(run);
    // The command role's hard-stop step is TERM to the group: the second TERM the leader sees is that step.
    expect(signalsOf(readRecord(w.record))).toEqual(['SIGTERM', 'SIGTERM']);
    expect(logs.filter((l) => l.event === 'signal.ignored')).toHaveLength(4);
    expect(code).toBe(137);
    const escalations = logs.filter((l) => l.event === 'shutdown.escalate');
    expect(escalations.map((l) => l.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    // 1.5 s after the first request, not after the last one (which came at ~0.8 s): generous bounds only.
    expect(escalations[0]!.after_ms as number).toBeGreaterThanOrEqual(1500);
    expect(escalations[0]!.after_ms as number).toBeLessThan(2300);
  });

  it('a child that ignores TERM is escalated to SIGKILL of the whole group', async () => {
    const run = await start(['--', 'fake-child'], {
      FAKE_ON_TERM: 'ignore',
      FAKE_GRANDCHILDREN: '2',
      STOP_TIMEOUT: '0.5',
      ESCALATION_GRACE: '0.5',
    });
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGTERM');
    const { code, logs } = await finished(run);
    expect(code).toBe(137);
    const kill = logs.find((l) => l.event === 'shutdown.escalate' && l.signal === 'SIGKILL')!;
    expect(kill.target).toBe('group');
  });

  it("the leader exits but its group lingers: the supervisor waits, then kills the group, then exits with the leader's code", async () => {
    const run = await start(['--', 'fake-child'], { FAKE_GRANDCHILDREN: '2', STOP_TIMEOUT: '0.5', ESCALATION_GRACE: '0.5' });
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGTERM'); // leader exits 0 on TERM, grandchildren ignore TERM
    const { code, logs } = await finished(run);
    expect(code).toBe(0);
    const events = logs.map((l) => l.event);
    expect(events.indexOf('child.exit')).toBeLessThan(events.indexOf('group.wait'));
    expect(events.indexOf('group.wait')).toBeLessThan(events.lastIndexOf('shutdown.escalate'));
    expect(logs.find((l) => l.event === 'group.wait')!.members).toHaveLength(2);
  });

  it('SIGUSR1 never opens the Node inspector; it is forwarded to a one-off command', async () => {
    const run = await start(['--', 'fake-child'], {});
    await waitForRecord(w.record, readyCount(1));
    run.signal('SIGUSR1');
    await waitForRecord(w.record, (events) => signalsOf(events).includes('SIGUSR1'));
    run.signal('SIGTERM');
    await finished(run);
    expect(run.stderr()).not.toMatch(/Debugger listening/);
  });
});

describe("each role's signal policy reaches the real argv's program", () => {
  async function policyRun(role: string, env: Record<string, string>, send: NodeJS.Signals[], expectLeader: string[]) {
    const run = await start([], {
      ROLE: role,
      FAKE_GRANDCHILDREN: '1',
      FAKE_GRANDCHILD_ON_TERM: 'exit:0',
      STOP_TIMEOUT: '2',
      ESCALATION_GRACE: '1',
      ...env,
    });
    await waitForRecord(w.record, readyCount(2));
    for (const signal of send) {
      run.signal(signal);
      await sleep(100);
    }
    run.signal('SIGTERM');
    const result = await finished(run);
    const events = readRecord(w.record);
    expect(signalsOf(events)).toEqual([...expectLeader, 'SIGTERM']);
    return { ...result, events };
  }

  it('web: HUP, TTIN, TTOU, USR1 go to the gunicorn master; USR2 and WINCH are dropped', async () => {
    const { logs } = await policyRun(
      'web',
      {},
      ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'],
      ['SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1'],
    );
    expect(logs.filter((l) => l.event === 'signal.dropped').map((l) => l.signal)).toEqual(['SIGUSR2', 'SIGWINCH']);
    expect(logs.find((l) => l.event === 'child.spawn')!.argv).toContain('--graceful-timeout');
  });

  it('worker: only USR1 reaches the celery main process; the pool (grandchild) gets nothing', async () => {
    const { events } = await policyRun('worker', {}, ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH'], ['SIGUSR1']);
    expect(
      events.filter(
        (e) => e.role === 'grandchild' && e.event === 'signal' && e.t < events.find((x) => x.role === 'leader' && x.event === 'exit')!.t,
      ),
    ).toEqual([]);
  });

  it('beat: QUIT becomes TERM, so the schedule is saved; everything else is dropped', async () => {
    const run = await start([], { ROLE: 'beat', STOP_TIMEOUT: '2' });
    await waitForRecord(w.record, readyCount(1));
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) run.signal(signal);
    await sleep(200);
    run.signal('SIGQUIT');
    const { code } = await finished(run);
    expect(code).toBe(0);
    expect(signalsOf(readRecord(w.record))).toEqual(['SIGTERM']);
  });

  it('web QUIT: a quick stop sends QUIT to the whole group at once', async () => {
    const run = await start([], { ROLE: 'web', FAKE_ON_QUIT: 'exit:0', FAKE_GRANDCHILDREN: '1', STOP_TIMEOUT: '5' });
    await waitForRecord(w.record, readyCount(2));
    run.signal('SIGQUIT');
    await finished(run);
    const events = readRecord(w.record);
    expect(signalsOf(events)).toEqual(['SIGQUIT']);
    expect(signalsOf(events, 'grandchild')).toContain('SIGQUIT');
  });

  it('web DRAIN_DELAY: the master keeps running for the delay, then gets TERM', async () => {
    const run = await start([], { ROLE: 'web', DRAIN_DELAY: '1', STOP_TIMEOUT: '2' });
    await waitForRecord(w.record, readyCount(1));
    const requestedAt = Date.now();
    run.signal('SIGTERM');
    await finished(run);
    const term = readRecord(w.record).find((e) => e.event === 'signal')!;
    expect(term.signal).toBe('SIGTERM');
    expect(term.t - requestedAt).toBeGreaterThanOrEqual(950);
    expect(run.logs().find((l) => l.event === 'shutdown.drain')).toMatchObject({ delay_ms: 1000 });
  });

  it("web defaults: TERM (an orchestrator's stop) keeps the master serving for DRAIN_DELAY's default 5 s, then TERMs it", async () => {
    const run = await start([], { ROLE: 'web' });
    await waitForRecord(w.record, readyCount(1));
    const requestedAt = Date.now();
    run.signal('SIGTERM');
    await finished(run);
    const term = readRecord(w.record).find((e) => e.event === 'signal')!;
    expect(term.signal).toBe('SIGTERM');
    expect(term.t - requestedAt).toBeGreaterThanOrEqual(4950);
    expect(run.logs().find((l) => l.event === 'shutdown.drain')).toMatchObject({ delay_ms: 5000 });
    expect(run.logs().find((l) => l.event === 'shutdown.graceful')).toMatchObject({ timeout_ms: 20_000 });
  }, 30_000);

  it('web: PWR (LXC/Incus) drains like TERM; INT (a Ctrl-C at a terminal) never drains, even with DRAIN_DELAY set', async () => {
    let run = await start([], { ROLE: 'web', DRAIN_DELAY: '1' });
    await waitForRecord(w.record, readyCount(1));
    let requestedAt = Date.now();
    run.signal('SIGPWR');
    await finished(run);
    let term = readRecord(w.record).find((e) => e.event === 'signal')!;
    expect(term.signal).toBe('SIGTERM');
    expect(term.t - requestedAt).toBeGreaterThanOrEqual(950);
    expect(run.logs().find((l) => l.event === 'shutdown.drain')).toMatchObject({ delay_ms: 1000 });

    run = await start([], { ROLE: 'web', DRAIN_DELAY: '3' });
    await waitForRecord(w.record, readyCount(1));
    requestedAt = Date.now();
    run.signal('SIGINT');
    await finished(run);
    term = readRecord(w.record).find((e) => e.event === 'signal')!;
    expect(term.signal).toBe('SIGTERM');
    // Not a timing claim: only that it did not wait the 3 s drain.
    expect(term.t - requestedAt).toBeLessThan(2500);
    expect(run.logs().some((l) => l.event === 'shutdown.drain')).toBe(false);
  }, 30_000);

  it('worker escalation: QUIT to the main process only (cold shutdown), then SIGKILL to the group', async () => {
    const run = await start([], {
      ROLE: 'worker',
      FAKE_ON_TERM: 'ignore',
      FAKE_GRANDCHILDREN: '1',
      STOP_TIMEOUT: '0.5',
      ESCALATION_GRACE: '0.5',
    });
    await waitForRecord(w.record, readyCount(2));
    run.signal('SIGTERM');
    const { code, logs } = await finished(run);
    expect(code).toBe(137);
    const events = readRecord(w.record);
    expect(signalsOf(events)).toEqual(['SIGTERM', 'SIGQUIT']);
    expect(signalsOf(events, 'grandchild')).toEqual([]);
    expect(logs.filter((l) => l.event === 'shutdown.escalate').map((l) => `${l.signal}:${l.target}`)).toEqual([
      'SIGQUIT:leader',
      'SIGKILL:group',
    ]);
  });
});

describe("container topology: the image's tini as PID 1, the supervisor as PID 2, uid 10001", () => {
  it('TERM to PID 1 reaches the leader exactly once and never the rest of its group', async () => {
    const run = await start(
      ['--', 'fake-child'],
      { FAKE_ON_TERM: 'exit:0', FAKE_GRANDCHILDREN: '2', FAKE_GRANDCHILD_ON_TERM: 'exit:0', STOP_TIMEOUT: '1', ESCALATION_GRACE: '1' },
      { pidNamespace: true, uid: 10001 },
    );
    await waitForRecord(w.record, readyCount(3));
    run.signal('SIGTERM');
    const { code, logs } = await finished(run);
    expect(code).toBe(0);
    expect(logs[0]!.pid).toBe(2);
    const events = readRecord(w.record);
    expect(signalsOf(events)).toEqual(['SIGTERM']);
    const leaderExit = events.find((e) => e.role === 'leader' && e.event === 'exit')!;
    expect(events.filter((e) => e.role === 'grandchild' && e.event === 'signal').every((e) => e.t >= leaderExit.t)).toBe(true);
    expect(logs.some((l) => l.event === 'supervisor.root')).toBe(false);
  });

  describe('config.advice when PID 1 is `tini -g`: a stop in the instant before its child has its own group is lost', () => {
    const pid1Advice = (logs: LogLine[]) => logs.filter((l) => l.event === 'config.advice');
    // The fix the advice names is the image's own ENTRYPOINT, as Dockerfile.base writes it.
    const imageEntrypoint = JSON.stringify(IMAGE_ENTRYPOINT).replaceAll(',', ', ');

    it(`under the image's ENTRYPOINT (${IMAGE_ENTRYPOINT.join(' ')}): no advice`, async () => {
      const run = await start(['--', 'fake-child'], { FAKE_EXIT: '0' }, { pidNamespace: true, uid: 10001 });
      expect(pid1Advice((await finished(run)).logs)).toEqual([]);
    });

    it.each([[TINI_GROUP_ENTRYPOINT], [['tini', '-sg', '--']]])('under %j: names the ENTRYPOINT and the fix', async (init) => {
      const run = await start(['--', 'fake-child'], { FAKE_EXIT: '0' }, { pidNamespace: true, uid: 10001, init });
      const advice = pid1Advice((await finished(run)).logs);
      expect(advice).toEqual([expect.objectContaining({ level: 'warn', variable: 'ENTRYPOINT', value: init.slice(0, -1).join(' ') })]);
      expect(advice[0]!.advice).toContain(`ENTRYPOINT ${imageEntrypoint}`);
    });

    it('under plain tini with TINI_KILL_PROCESS_GROUP set (empty counts): names the variable, not its value', async () => {
      const run = await start(['--', 'fake-child'], { FAKE_EXIT: '0', TINI_KILL_PROCESS_GROUP: '' }, { pidNamespace: true, uid: 10001 });
      expect(pid1Advice((await finished(run)).logs)).toEqual([
        expect.objectContaining({ variable: 'TINI_KILL_PROCESS_GROUP', value: '(set, value not shown)' }),
      ]);
    });

    it('under a PID 1 that is not tini, even with -g among its arguments: no advice', async () => {
      // bash forks the supervisor (the `exit` after it keeps bash from exec'ing it): bash is the parent.
      const init = ['bash', '-c', '"$@"; exit $?', '-g'];
      const run = await start(
        ['--', 'fake-child'],
        { FAKE_EXIT: '0', TINI_KILL_PROCESS_GROUP: '1' },
        { pidNamespace: true, uid: 10001, init },
      );
      const { logs } = await finished(run);
      expect(logs[0]!.pid).toBe(2);
      expect(pid1Advice(logs)).toEqual([]);
    });
  });

  it('without tini, as PID 1 itself, the supervisor warns that orphans will not be reaped', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_EXIT: '0' }, { pidNamespace: 'without-tini', uid: 10001 });
    const { code, logs } = await finished(run);
    expect(code).toBe(0);
    expect(logs[0]!.pid).toBe(1);
    expect(logs.some((l) => l.event === 'supervisor.pid1')).toBe(true);
  });

  it('the exit code passes through tini', async () => {
    const run = await start(['--', 'fake-child'], { FAKE_EXIT: '5' }, { pidNamespace: true, uid: 10001 });
    expect((await finished(run)).code).toBe(5);
  });

  it('an internal error kills the whole group and exits 70 with one JSON error line', async () => {
    const run = await start(
      ['--', 'fake-child'],
      { FAKE_GRANDCHILDREN: '2', EVEAI_SUPERVISOR_INJECT_FAULT: 'after-spawn' },
      { pidNamespace: true, uid: 10001 },
    );
    const { code, logs } = await finished(run);
    expect(code).toBe(70);
    expect(logs.filter((l) => l.event === 'supervisor.error')).toHaveLength(1);
  });
});

describe('SUPERVISOR_MODE=exec', () => {
  it('the program replaces the supervisor: same pid, last supervisor line is supervisor.exec', async () => {
    w = world({ SUPERVISOR_MODE: 'exec', FAKE_EXIT: '4' });
    const running = await startSupervisor(['--', 'fake-child'], { env: w.env });
    const { code } = await running.exited;
    expect(code).toBe(4);
    const logs = running.logs();
    expect(logs.at(-1)!.event).toBe('supervisor.exec');
    const ready = readRecord(w.record).find((e) => e.event === 'ready')!;
    expect(ready.pid).toBe(logs.at(-1)!.pid);
  });
});
