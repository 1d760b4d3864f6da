// The probe verdicts from plain facts, the /proc and heartbeat readers on real processes and files, and the
// probe variables' validation.
import { spawn } from 'node:child_process';
import { closeSync, openSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveness, readiness, type Facts } from '../../src/probes/checks.js';
import { heartbeatAge, processState } from '../../src/probes/proc.js';
import { loadPlan } from '../../src/plan/load.js';
import { tempDir } from '../support/cleanup.js';
import { killAll } from '../support/proc.js';
import { sleep } from '../support/wait.js';

const running: Facts = { phase: 'running', leader: 'S' };

describe('liveness', () => {
  it('passes for a running program in any sleeping or running state', () => {
    for (const leader of ['R', 'S', 'D', 'I']) expect(liveness({ ...running, leader }).ok, leader).toBe(true);
  });
  it('fails when the main process is gone, a zombie or stopped', () => {
    expect(liveness({ ...running, leader: undefined })).toMatchObject({ ok: false, reason: expect.stringContaining('gone') });
    expect(liveness({ ...running, leader: 'Z' })).toMatchObject({ ok: false, reason: expect.stringContaining('zombie') });
    expect(liveness({ ...running, leader: 'T' })).toMatchObject({ ok: false, reason: expect.stringContaining('stopped') });
    expect(liveness({ ...running, leader: 't' }).ok).toBe(false);
  });
  it('stays true through a drain and a graceful stop, whatever the process looks like: the stop deadline owns it', () => {
    for (const phase of ['draining', 'stopping'] as const) {
      expect(liveness({ phase, leader: 'T', heartbeatMaxAgeMs: 1000 }).ok, phase).toBe(true);
    }
  });
  it('passes while starting (the supervisor answers) and fails once the program exited', () => {
    expect(liveness({ phase: 'starting', leader: undefined }).ok).toBe(true);
    expect(liveness({ phase: 'exited', leader: undefined })).toMatchObject({ ok: false, reason: 'the program exited' });
  });
  it('with a heartbeat: fails without one since the start and when it is older than the maximum age', () => {
    const hb = { heartbeatMaxAgeMs: 60_000 };
    expect(liveness({ ...running, ...hb }).reason).toBe('no heartbeat since the program started');
    expect(liveness({ ...running, ...hb, heartbeatAgeMs: 60_000 }).ok).toBe(true);
    expect(liveness({ ...running, ...hb, heartbeatAgeMs: 60_001 })).toMatchObject({
      ok: false,
      reason: 'heartbeat is 60 s old (at most 60 s)',
    });
    expect(liveness({ ...running, ...hb, heartbeatAgeMs: 5, leader: 'T' }).ok, 'a fresh heartbeat does not hide a stopped process').toBe(
      false,
    );
  });
});

describe('readiness', () => {
  it('is true only while running, with a healthy leader that accepts connections when it serves a port', () => {
    expect(readiness(running).ok).toBe(true);
    expect(readiness({ ...running, accepting: true }).ok).toBe(true);
    expect(readiness({ ...running, accepting: false }).ok).toBe(false);
    expect(readiness({ ...running, leader: 'T' }).ok).toBe(false);
  });
  it('is false while starting, draining, stopping and after the exit', () => {
    for (const phase of ['starting', 'draining', 'stopping', 'exited'] as const) {
      expect(readiness({ phase, leader: 'S', accepting: true }), phase).toEqual({ ok: false, reason: phase });
    }
  });
});

describe('/proc state of real processes', () => {
  const children: number[] = [];
  afterEach(() => killAll(children.splice(0)));

  it('reads S for a sleeping process, T once it is SIGSTOPped, undefined once it is gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child.pid!);
    await sleep(100);
    expect(processState(child.pid!)).toBe('S');
    process.kill(child.pid!, 'SIGSTOP');
    await expect.poll(() => processState(child.pid!), { timeout: 5000 }).toBe('T');
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(processState(child.pid!)).toBeUndefined();
  });

  it('reads Z for a zombie (a child its parent never waits for)', async () => {
    // `sleep 0 &` becomes a child of the exec'd `sleep 30`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(parent.pid!);
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
    await expect.poll(() => processState(zombie), { timeout: 5000 }).toBe('Z');
  });

  it('reads the state after a command name that contains ") "', async () => {
    const odd = join(tempDir('eveai-probe-'), 'a) b');
    const { copyFileSync, chmodSync } = await import('node:fs');
    copyFileSync('/bin/sleep', odd);
    chmodSync(odd, 0o755);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    children.push(child.pid!);
    await expect.poll(() => processState(child.pid!), { timeout: 5000 }).toBe('S');
  });
});

describe('heartbeat age', () => {
  it('is the time since the last touch, undefined when missing or touched before the program started', () => {
    const file = join(tempDir('eveai-probe-'), 'hb');
    const now = Date.now();
    expect(heartbeatAge(file, now - 10_000, now)).toBeUndefined();
    closeSync(openSync(file, 'w'));
    utimesSync(file, (now - 5000) / 1000, (now - 5000) / 1000);
    expect(heartbeatAge(file, now - 10_000, now)).toBeCloseTo(5000, -1);
    expect(heartbeatAge(file, now - 1000, now), 'left by an earlier run').toBeUndefined();
    // File times come from the kernel's coarse clock (one tick behind, up to 10 ms): a touch right after the
    // spawn can carry a time a little before the supervisor's Date.now() at spawn, and is this run's.
    utimesSync(file, (now - 8) / 1000, (now - 8) / 1000);
    expect(heartbeatAge(file, now, now + 1000), 'touched at the spawn, stamped one clock tick early').toBe(1008);
  });
});

describe('probe variables', () => {
  const problems = (env: Record<string, string>) => {
    const loaded = loadPlan(env);
    return loaded.ok ? [] : loaded.problems;
  };
  it('are off by default and reach the plan when set', () => {
    const off = loadPlan({ ROLE: 'worker' });
    expect(off.ok && off.plan.settings.probePort).toBeUndefined();
    const on = loadPlan({ ROLE: 'worker', PROBE_PORT: '9000', PROBE_HEARTBEAT_FILE: '/tmp/hb', PROBE_HEARTBEAT_MAX_AGE: '30' });
    expect(on.ok && on.plan.settings).toMatchObject({ probePort: 9000, heartbeatFile: '/tmp/hb', heartbeatMaxAgeMs: 30_000 });
    const web = loadPlan({ ROLE: 'web', PORT: '8081', PROBE_PORT: '9000' });
    expect(web.ok && web.plan.listenPort).toBe(8081);
  });
  it("refuse a heartbeat without a probe port, the program's own port, exec mode and bad values, one line each", () => {
    expect(problems({ ROLE: 'worker', PROBE_HEARTBEAT_FILE: '/tmp/hb' })).toEqual([
      expect.objectContaining({ variable: 'PROBE_HEARTBEAT_FILE', value: '/tmp/hb', expected: expect.stringContaining('PROBE_PORT') }),
    ]);
    expect(problems({ ROLE: 'web', PORT: '8080', PROBE_PORT: '8080' })).toEqual([
      expect.objectContaining({ variable: 'PROBE_PORT', value: '8080', expected: expect.stringContaining('other than PORT') }),
    ]);
    expect(problems({ ROLE: 'web', PROBE_PORT: '9000', SUPERVISOR_MODE: 'exec' })).toEqual([
      expect.objectContaining({ variable: 'PROBE_PORT', expected: expect.stringContaining('SUPERVISOR_MODE=exec') }),
    ]);
    expect(problems({ ROLE: 'beat', PROBE_PORT: '0', PROBE_HEARTBEAT_MAX_AGE: 'soon' }).map((p) => p.variable)).toEqual([
      'PROBE_PORT',
      'PROBE_HEARTBEAT_MAX_AGE',
    ]);
  });
});
