// Descendants that call setsid() leave the program's process group and session: no signal to the group
// reaches them and the group wait does not see them. The behaviour is defined as follows:
//  - the program is started with EVEAI_SUPERVISOR_RUN=<token> (src/supervise/escapees.ts); once the group is
//    gone, every live process that started with the token is named in a `group.escapees` warning and gets
//    SIGKILL — what the PID namespace's teardown does to them in the container anyway, so both topologies end
//    the same way;
//  - under tini in a PID namespace they die with the namespace even when the detection cannot see them
//    (a descendant that cleared its environment), because tini exits right after the supervisor.
import { describe, expect, it } from 'vitest';
// node:child_process for the processes that findEscapees() must tell apart: detached, with chosen environments.
import { spawn } from 'node:child_process';
import { execaSync } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEscapees, RUN_MARKER } from '../../src/supervise/escapees.js';
import { atEnd, expectNothingLeftAfterAll } from '../support/cleanup.js';
import { NODE } from '../support/paths.js';
import { hostPidOf, isRunning, killAll, processesWithMarker, stat } from '../support/proc.js';
import { events, startSupervisor, supervisorPidOf } from '../support/supervisor.js';
import { eventually, sleep, within } from '../support/wait.js';
import { isReady, waitForRecord, world } from '../support/world.js';

expectNothingLeftAfterAll();

const FIXTURES = join(import.meta.dirname, 'fixtures');
const ESCAPER = join(FIXTURES, 'escaper.mjs');

/** What the escapees wrote: their pids as they see them (inside a PID namespace, not the host's). */
function recordedEscapees(file: string): { pid: number; kind: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { pid: number; kind: string });
}

/** The escapees' host pids (translated through the namespace of `supervisorPid` when they live in one). */
function escapeeHostPids(file: string, supervisorPid: number, pidNamespace: boolean): number[] {
  return recordedEscapees(file).map(({ pid }) => (pidNamespace ? (hostPidOf(pid, supervisorPid) ?? -1) : pid));
}

describe('grandchildren that escape the process group with setsid()', () => {
  for (const pidNamespace of [false, true]) {
    it(`${pidNamespace ? 'under tini in a PID namespace' : 'without a PID namespace'}: named in a warning, then killed; nothing survives`, async () => {
      using w = world({
        ESCAPE_SETSID: '2',
        ESCAPE_DAEMON: '1',
        FAKE_GRANDCHILDREN: '1',
        FAKE_GRANDCHILD_ON_TERM: 'exit:0',
        STOP_TIMEOUT: '1',
        ESCALATION_GRACE: '0.5',
      }); // every escapee here carries its marker
      const pidsFile = join(w.dir, 'escapees.jsonl');
      w.env.ESCAPE_PIDS = pidsFile;
      using run = await startSupervisor(['--', 'node', ESCAPER], { env: w.env, pidNamespace });
      await waitForRecord(w.record, isReady);
      expect(await eventually(() => recordedEscapees(pidsFile).length === 3, 10_000)).toBe(true);
      const supervisorPid = await supervisorPidOf(run, pidNamespace);
      const recorded = recordedEscapees(pidsFile);
      const escapees = escapeeHostPids(pidsFile, supervisorPid, pidNamespace);
      // They really left: each leads a session (and group) of its own (host /proc shows host ids).
      for (const pid of escapees) {
        expect(stat(pid)?.session).toBe(pid);
        expect(stat(pid)?.pgrp).toBe(pid);
      }
      run.signal('SIGTERM');
      const exit = await within(run.exited, 20_000, 'exit');
      expect(exit.code).toBe(0);
      // SIGKILL is asynchronous: a dying process may take a moment to become a zombie.
      expect(await eventually(() => escapees.every((pid) => !isRunning(pid)), 2_000)).toBe(true);
      expect(w.alive()).toEqual([]);
      const logs = run.logs();
      const warning = events(logs, 'group.escapees');
      expect(warning).toHaveLength(1);
      expect(warning[0]!.level).toBe('warn');
      // Named by pid as the supervisor sees them (inside the namespace: the namespace's pids).
      expect(warning[0]!.members as string[]).toHaveLength(3);
      expect((warning[0]!.members as string[]).map((m) => Number(m.split(':')[0])).sort()).toEqual(recorded.map((e) => e.pid).sort());
      expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
    }, 40_000);
  }

  it('under tini in a PID namespace, even an escapee that cleared its environment dies with the namespace', async () => {
    using w = world({ ESCAPE_SETSID: '1', ESCAPE_DAEMON: '1', ESCAPE_CLEARENV: '1' });
    const pidsFile = join(w.dir, 'escapees.jsonl');
    w.env.ESCAPE_PIDS = pidsFile;
    using run = await startSupervisor(['--', 'node', ESCAPER], { env: w.env, pidNamespace: true });
    let escapees: number[] = [];
    using _escapees = atEnd(() => killAll(escapees.filter((pid) => pid > 0 && isRunning(pid)))); // they carry no marker
    await waitForRecord(w.record, isReady);
    expect(await eventually(() => recordedEscapees(pidsFile).length === 2, 10_000)).toBe(true);
    escapees = escapeeHostPids(pidsFile, await supervisorPidOf(run, true), true);
    expect(escapees).toHaveLength(2);
    expect(escapees.every((pid) => pid > 0 && isRunning(pid))).toBe(true);
    expect(escapees.filter((pid) => processesWithMarker(w.marker).includes(pid))).toEqual([]); // no marker at all
    run.signal('SIGTERM');
    const exit = await within(run.exited, 20_000, 'exit');
    expect(exit.code).toBe(0);
    // The namespace's init (tini) exited: the kernel SIGKILLs every process left in the namespace.
    expect(await eventually(() => escapees.every((pid) => !isRunning(pid)), 2_000)).toBe(true);
    expect(events(run.logs(), 'group.escapees')).toEqual([]); // nothing carried the token: nothing named
  }, 40_000);

  it('in a PID namespace without its own /proc, findEscapees() looks for nothing rather than kill by foreign pids', () => {
    const probe = (args: string[]) =>
      JSON.parse(execaSync('unshare', [...args, NODE, join(FIXTURES, 'escapee-probe.mjs')], { timeout: 20_000 }).stdout) as {
        found: number;
        pid: number;
      };
    expect(probe(['--pid', '--fork', '--kill-child', '--mount-proc'])).toEqual({ found: 1, pid: 1 });
    // The host's /proc: its pids are not the ones kill() would reach from inside the namespace.
    expect(probe(['--pid', '--fork', '--kill-child'])).toEqual({ found: 0, pid: 1 });
  });

  it('findEscapees() matches the exact token only, never the supervisor itself nor a zombie', async () => {
    const token = `${process.pid}.hostile${Date.now()}`;
    const script = 'setInterval(() => {}, 1 << 30)';
    const spawnWith = (value: string) =>
      spawn(NODE, ['-e', script], { env: { [RUN_MARKER]: value, PATH: process.env.PATH }, detached: true, stdio: 'ignore' });
    const mine = spawnWith(token);
    const prefix = spawnWith(`${token}0`); // a token that merely starts with ours
    const other = spawnWith('someone-else');
    const exiting = spawn(NODE, ['-e', 'process.exit(0)'], { env: { [RUN_MARKER]: token }, stdio: 'ignore' }); // reaped by us
    using _children = atEnd(() => [mine, prefix, other, exiting].forEach((child) => child.kill('SIGKILL')));
    await sleep(300);
    const found = findEscapees(token).map((m) => m.pid);
    expect(found).toEqual([mine.pid]);
    expect(findEscapees('no-such-token')).toEqual([]);
  });
});
