// The one way the tests start the built dist/supervisor.js for real: plainly, as another uid, or in the container
// topology (`unshare --pid --fork --mount-proc` + the image's ENTRYPOINT: tini PID 1, supervisor PID 2); then its JSON
// log, its signals and its exit.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns, type StdioOptions } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { register } from './cleanup.js';
import { collectSupervisorLines, parseSupervisorLines } from './log-lines.js';
import { IMAGE_ENTRYPOINT, NODE, ROOT, SUPERVISOR, TEST_PATH } from './paths.js';
import { childrenOf, isRunning, pidOneOf, procPicture, stat, tiniHasBlockedSignals } from './proc.js';
import { waitFor, within } from './wait.js';

export interface LogLine {
  event: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Run under real tini as PID 1 of a new PID namespace; 'without-tini' makes the supervisor PID 1 itself. */
  pidNamespace?: boolean | 'without-tini';
  /** PID 1's argv in the PID namespace: the image's ENTRYPOINT (Dockerfile.base) unless given, e.g. TINI_GROUP_ENTRYPOINT. */
  init?: readonly string[];
  /** Run as this uid/gid (setpriv), e.g. 10001 like the image. */
  uid?: number;
  cwd?: string;
  /** The run's stdin, stdout, stderr when not pipes (e.g. FIFOs the test reads): stdout()/stderr() are then empty. */
  stdio?: StdioOptions;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running extends Disposable {
  /** The process a container runtime would signal: tini (PID 1 inside) or the supervisor itself. */
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  logs(): LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Settles once the process exited and its output is read ('close'). */
  exited: Promise<Exit>;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to the process started (with unshare --kill-child, tini and the namespace go with it). Also what `using` does. */
  kill(): void;
}

/**
 * Starts a run. Under a PID namespace with tini, resolves only once tini has blocked the signals it forwards (or the
 * run is already over): a signal sent to a namespace's PID 1 before that is dropped by the kernel, a property of
 * PID 1 and not of the supervisor (README, "PID 1: tini-static, without -g"). Under `tini -g` also only once tini's
 * child has a process group of its own: before its setpgid(), `tini -g` finds no group to forward to and drops the
 * signal ("Child was dead when forwarding signal"). A test's stop request starts counting after them.
 */
export async function startSupervisor(args: string[], options: RunOptions = {}): Promise<Running> {
  const env = { PATH: TEST_PATH, HOME: '/tmp', SUPERVISOR_LOG_LEVEL: 'debug', ...options.env };
  let argv = [NODE, SUPERVISOR, ...args];
  if (options.uid !== undefined) {
    argv = ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', ...argv];
  }
  if (options.pidNamespace) {
    const pid1 = options.pidNamespace === 'without-tini' ? [] : (options.init ?? IMAGE_ENTRYPOINT);
    argv = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...pid1, ...argv];
  }
  // node:child_process, not execa: the tests read the exit status while the output may still be open
  // (proc.exitCode/signalCode, the 'exit' event when orphans hold the pipes), hand FIFOs as stdout/stderr and signal
  // the process directly; execa's subprocess type hides those ChildProcess members and its kill() adds its own timer.
  const proc = spawn(argv[0]!, argv.slice(1), { env, cwd: options.cwd ?? ROOT, stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((done) =>
    proc.on('close', (code, signal) => {
      collectSupervisorLines(err);
      done({ code, signal });
    }),
  );
  const over = () => proc.exitCode !== null || proc.signalCode !== null;
  const logs = () => parseLog(err);
  const kill = () => void (over() || proc.kill('SIGKILL'));
  const run: Running = {
    proc,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    signal: (signal) => {
      // With unshare --fork the process to signal is tini, unshare's child: the "PID 1" a runtime signals.
      const target = options.pidNamespace ? pidOneOf(proc.pid!) : proc.pid!;
      process.kill(target, signal);
    },
    async waitForLog(predicate, timeoutMs = 20_000) {
      return waitFor(
        () => `log line; stderr so far:\n${err}`,
        () => {
          const line = logs().find(predicate);
          if (!line && over()) throw new Error(`log line not seen before the run ended; stderr:\n${err}`);
          return line;
        },
        timeoutMs,
      );
    },
    kill,
    [Symbol.dispose]: kill,
  };
  register({ cleanup: () => (kill(), []) });
  const init = options.init ?? IMAGE_ENTRYPOINT;
  if (options.pidNamespace === true && /^tini/.test(basename(init[0]!))) {
    const tini = pidOneOf(proc.pid!);
    await waitFor('tini blocking the signals it forwards', () => tiniHasBlockedSignals(tini) || over(), 10_000, 1);
    if (init.includes('-g')) {
      const inOwnGroup = () => childrenOf(tini).some((pid) => stat(pid)?.pgrp === pid);
      await waitFor('tini -g starting the supervisor in a process group of its own', () => inOwnGroup() || over(), 10_000, 1);
    }
  }
  return run;
}

/** The supervisor's host pid: the process itself, or tini's only child in the PID-namespace topology. */
export async function supervisorPidOf(run: Running, pidNamespace: boolean): Promise<number> {
  if (!pidNamespace) return run.proc.pid!;
  const tini = pidOneOf(run.proc.pid!);
  return waitFor('tini has a child', () => childrenOf(tini)[0], 10_000, 5);
}

/**
 * The run's exit within `ms`. The deadline is this test process's own timer, and a test process starved on a loaded
 * runner runs its timers before the I/O that would have told it the run had exited: a deadline passed by a process
 * that is no longer running is no hang, so the close is awaited instead. On a real hang the /proc picture of the run
 * and of `alive()` (its marked descendants) and the tail of its stderr are printed, then the promise rejects.
 */
export async function exitOf(run: Running, ms: number, what: string, alive: () => number[] = () => []): Promise<Exit> {
  try {
    return await within(run.exited, ms, what);
  } catch (error) {
    if (!isRunning(run.proc.pid!)) {
      console.log(`${what}: the deadline passed in a starved test process; the run had exited`);
      return within(run.exited, ms, `${what} (close after the exit)`);
    }
    console.log(
      [
        `HANG (${what}): still running after ${ms} ms; /proc of the run and of every marked process:`,
        ...[...new Set([run.proc.pid!, ...alive()])].map(procPicture),
        'stderr tail:',
        ...run
          .stderr()
          .split('\n')
          .slice(-25)
          .map((line) => line.slice(0, 300)),
      ].join('\n'),
    );
    throw error;
  }
}

/** The supervisor's JSON lines out of stderr (which also carries the child's own output). */
export function parseLog(stderr: string): LogLine[] {
  return parseSupervisorLines<LogLine>(stderr);
}

export function events(lines: LogLine[], event: string): LogLine[] {
  return lines.filter((line) => line.event === event);
}

/** Every stderr line that is not one of the supervisor's JSON lines (stack traces, Node warnings, …). */
export function foreignLines(stderr: string): string[] {
  return stderr.split('\n').filter((text) => {
    if (text === '') return false;
    try {
      return (JSON.parse(text) as { name?: string }).name !== 'eveai-supervisor';
    } catch {
      return true;
    }
  });
}

/**
 * dist/supervisor.js copied alone into `dir`, as the image has it (no node_modules, no package.json beside it), and a
 * way to run that copy to its end with spawnSync: its supervisor lines are checked against the log schema like every
 * other run's. Not startSupervisor, which runs dist/ in the repository.
 */
export function bundleCopiedAlone(dir: string): {
  bundle: string;
  run(args: string[], env?: Record<string, string>): SpawnSyncReturns<string>;
} {
  const bundle = join(dir, 'supervisor.js');
  copyFileSync(SUPERVISOR, bundle);
  const run = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(NODE, [bundle, ...args], {
      cwd: dir,
      env: { PATH: TEST_PATH, HOME: dir, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    collectSupervisorLines(result.stderr);
    return result;
  };
  return { bundle, run };
}
