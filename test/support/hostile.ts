// Shared pieces of the hostile-conditions tests: a world of fake programs that report what they were given,
// markers that find every descendant wherever it moved, memory sampling, bounded waits and bounded parallelism.
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  childrenOf,
  pidOneOf,
  killProcessesWithMarker,
  processesWithMarker,
  runSupervisor,
  tempDir,
  TEST_PATH,
  type LogLine,
  type RunOptions,
  type Running,
} from './supervisor.js';

export const FIXTURES = join(import.meta.dirname, '..', 'hostile', 'fixtures');
/** gunicorn and celery stand-ins: they run fixtures/program.mjs (argv/env/fd report, then fake-child.mjs). */
export const HOSTILE_BIN = join(FIXTURES, 'bin');
export const PROGRAM = join(FIXTURES, 'program.mjs');

export interface World {
  dir: string;
  /** fake-child.mjs's record of signals and exits (FAKE_RECORD). */
  record: string;
  /** program.mjs's report of its argv, env and stdio (HOSTILE_ARGV_FILE). */
  argvFile: string;
  /** NAME=value carried by every descendant: processesWithMarker finds them all. */
  marker: string;
  env: Record<string, string>;
  /** Live (non-zombie) processes carrying the marker. */
  alive(): number[];
  /** SIGKILLs whatever still carries the marker; returns what it had to kill. */
  cleanup(): number[];
}

const worlds: World[] = [];

export function world(extraEnv: Record<string, string> = {}): World {
  const dir = tempDir('eveai-hostile-');
  chmodSync(dir, 0o777); // a non-root run writes its record here too
  const id = randomUUID();
  const marker = `HOSTILE_MARK=${id}`;
  const made: World = {
    dir,
    record: join(dir, 'record.jsonl'),
    argvFile: join(dir, 'argv.json'),
    marker,
    env: {
      PATH: `${HOSTILE_BIN}:${TEST_PATH}`,
      FAKE_RECORD: join(dir, 'record.jsonl'),
      HOSTILE_ARGV_FILE: join(dir, 'argv.json'),
      HOSTILE_MARK: id,
      ...extraEnv,
    },
    alive: () => processesWithMarker(marker),
    cleanup: () => killProcessesWithMarker(marker),
  };
  worlds.push(made);
  return made;
}

/** For afterAll: SIGKILL anything any world of this file left behind (returns what had to be killed), remove their directories. */
export function cleanupAllWorlds(): number[] {
  const all = worlds.splice(0);
  const killed = all.flatMap((w) => w.cleanup());
  for (const w of all) rmSync(w.dir, { recursive: true, force: true });
  return killed;
}

export interface ProgramReport {
  argv: string[];
  env: Record<string, string>;
  fds: Record<string, string | null>;
  nonblocking: Record<string, boolean | null>;
  uid: number;
}

export function readReport(w: World): ProgramReport | undefined {
  return existsSync(w.argvFile) ? (JSON.parse(readFileSync(w.argvFile, 'utf8')) as ProgramReport) : undefined;
}

/** Resolves with the promise's value, or rejects after `ms` with `what` (never hangs a test). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` until it holds or `ms` passed; returns whether it held. */
export async function eventually(predicate: () => boolean, ms: number, every = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(every);
  }
}

/** The supervisor's host pid: the process itself, or tini's only child in the PID-namespace topology. */
export async function supervisorPidOf(run: Running, pidNamespace: boolean): Promise<number> {
  if (!pidNamespace) return run.proc.pid!;
  const tini = pidOneOf(run.proc.pid!);
  let pid: number | undefined;
  await eventually(() => (pid = childrenOf(tini)[0]) !== undefined, 10_000, 5);
  if (pid === undefined) throw new Error('tini has no child');
  return pid;
}

/**
 * Starts a run; under a PID namespace, returns only once tini has spawned the supervisor, i.e. once tini
 * has set up its signal handling: a signal sent to a namespace's PID 1 before it has a handler (or blocks
 * the signal) is dropped by the kernel — the stop would be lost before anything of ours runs. That is a
 * property of PID 1 (documented in the report), not of the supervisor; so is the next window (see below).
 */
export async function start(args: string[], options: RunOptions): Promise<Running> {
  const run = runSupervisor(args, options);
  if (options.pidNamespace) {
    const tini = pidOneOf(run.proc.pid!);
    // ...and until that child has a process group of its own: before tini's child calls setpgid(), `tini -g` finds
    // no group to forward to and drops the signal ("Child was dead when forwarding signal"; README, Signals).
    const inOwnGroup = () => childrenOf(tini).some((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pid;
      } catch {
        return false;
      }
    });
    if (!(await eventually(inOwnGroup, 10_000, 1))) throw new Error('tini never started the supervisor');
  }
  return run;
}

/** The host pid of the process known as `nsPid` inside the PID namespace that `memberHostPid` belongs to. */
export function hostPidOf(nsPid: number, memberHostPid: number): number | undefined {
  let namespace: string;
  try {
    namespace = readlinkSync(`/proc/${memberHostPid}/ns/pid`);
  } catch {
    return undefined;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const ids = /NSpid:\s+([0-9\s]+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (ids && ids.length > 1 && Number(ids.at(-1)) === nsPid && readlinkSync(`/proc/${entry}/ns/pid`) === namespace) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Whether `pid` has a handler installed for signal number `signalNumber` (/proc/PID/status SigCgt). */
export function catches(pid: number, signalNumber: number): boolean {
  try {
    const mask = /SigCgt:\s+([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signalNumber - 1))) !== 0n;
  } catch {
    return false;
  }
}

export function rssKb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's resident memory until stopped; stop() returns the largest value seen (kB). */
export function sampleRss(pid: number, everyMs = 20): { stop(): number } {
  let max = rssKb(pid) ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, rssKb(pid) ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

/** Runs `fn` over `items` with at most `concurrency` at a time; results in input order. */
export async function inPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
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
 * What /proc says about a process that may explain why it is still there: its state, parent, group, session,
 * pending/blocked/caught signals, and for every thread the kernel function it waits in and its current syscall.
 */
export function procPicture(pid: number): string {
  const read = (file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'latin1');
    } catch {
      return undefined;
    }
  };
  const stat = read('stat');
  if (!stat) return `${pid} (gone)`;
  const close = stat.lastIndexOf(')');
  const [state, ppid, pgrp, session] = stat.slice(close + 2).split(' ');
  const signals = (read('status') ?? '').split('\n').filter((l) => /^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)/.test(l)).map((l) => l.replace(/\s+/, '=')).join(' ');
  const lines = [`${pid} ${stat.slice(stat.indexOf('('), close + 1)} state=${state} ppid=${ppid} pgrp=${pgrp} sid=${session} ${signals}`];
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    // gone meanwhile
  }
  for (const tid of threads) {
    const threadStat = read(`task/${tid}/stat`) ?? '';
    const threadState = threadStat.slice(threadStat.lastIndexOf(')') + 2).split(' ')[0];
    const syscall = (read(`task/${tid}/syscall`) ?? '?').trim().split(' ').slice(0, 3).join(' ');
    lines.push(`  thread ${tid} ${threadStat.slice(threadStat.indexOf('('), threadStat.lastIndexOf(')') + 1)} ${threadState} wchan=${read(`task/${tid}/wchan`) ?? '?'} syscall=${syscall}`);
  }
  return lines.join('\n');
}

/** Whether `pid` runs (not gone, and not a zombie waiting for this test process to reap it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The run's exit within `ms`. The deadline is this test process's own timer, and a test process starved on a loaded
 * runner runs its timers before the I/O that would have told it the run had exited: a deadline passed by a process
 * that is no longer running is no hang, so the close is awaited instead. On a real hang the /proc picture of the run
 * and of `alive()` (its marked descendants) and the tail of its stderr are printed, then the promise rejects.
 */
export async function exitOf(run: Running, ms: number, what: string, alive: () => number[] = () => []): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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
        ...run.stderr().split('\n').slice(-25).map((line) => line.slice(0, 300)),
      ].join('\n'),
    );
    throw error;
  }
}
