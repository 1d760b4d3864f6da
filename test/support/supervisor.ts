// Runs the built dist/supervisor.js for real, optionally in the container topology
// (`unshare --pid --fork --mount-proc tini -g --`: tini PID 1, supervisor PID 2), and reads its JSON log.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectSupervisorLines } from './log-lines.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
export const FAKE_CHILD = join(ROOT, 'test', 'fixtures', 'fake-child.mjs');
export const NODE = process.execPath;
/** Node 24 first, then Debian's tools and python3 (never a pyenv python). */
export const TEST_PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export interface LogLine {
  event: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Run under real `tini -g` as PID 1 of a new PID namespace; 'without-tini' makes the supervisor PID 1 itself. */
  pidNamespace?: boolean | 'without-tini';
  /** Run as this uid/gid (setpriv), e.g. 10001 like the image. */
  uid?: number;
  cwd?: string;
}

export interface Running {
  /** The process a container runtime would signal: tini (PID 1 inside) or the supervisor itself. */
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  logs(): LogLine[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
}

export function runSupervisor(args: string[], options: RunOptions = {}): Running {
  const env = { PATH: TEST_PATH, HOME: '/tmp', SUPERVISOR_LOG_LEVEL: 'debug', ...options.env };
  let argv = [NODE, SUPERVISOR, ...args];
  if (options.uid !== undefined) {
    argv = ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', ...argv];
  }
  if (options.pidNamespace) {
    const init = options.pidNamespace === 'without-tini' ? [] : ['tini', '-g', '--'];
    argv = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...init, ...argv];
  }
  const proc = spawn(argv[0]!, argv.slice(1), { env, cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    proc.on('close', (code, signal) => {
      collectSupervisorLines(err);
      done({ code, signal });
    }),
  );
  const logs = () => parseLog(err);
  return {
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
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = logs().find(predicate);
        if (line) return line;
        if (proc.exitCode !== null || proc.signalCode !== null) break;
        await sleep(20);
      }
      const line = logs().find(predicate);
      if (line) return line;
      throw new Error(`log line not seen within ${timeoutMs} ms; stderr so far:\n${err}`);
    },
  };
}

/** The supervisor's JSON lines out of stderr (which also carries the child's own output). */
export function parseLog(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of stderr.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(text) as LogLine & { name?: string };
      if (parsed.name === 'eveai-supervisor') lines.push(parsed);
    } catch {
      // a child's line that merely starts with "{"
    }
  }
  return lines;
}

/** tini's host pid: `unshare --fork` runs it as its only child. */
export function pidOneOf(unsharePid: number): number {
  for (let i = 0; i < 200; i++) {
    const children = childrenOf(unsharePid);
    if (children.length > 0) return children[0]!;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new Error(`unshare ${unsharePid} has no child`);
}

export function childrenOf(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Live (non-zombie) processes whose process group is `pgid`, from /proc. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/** Whether any live process still carries `marker` in its environment: finds every descendant, wherever it moved. */
export function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs every live process carrying `marker` in its environment; returns the pids it found. */
export function killProcessesWithMarker(marker: string): number[] {
  const found = processesWithMarker(marker);
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface RecordedEvent {
  pid: number;
  role: 'leader' | 'grandchild';
  event: 'ready' | 'signal' | 'exit';
  signal?: string;
  code?: number;
  t: number;
}

export function readRecord(file: string): RecordedEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as RecordedEvent);
}

export async function waitForRecord(file: string, predicate: (events: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const events = readRecord(file);
    if (predicate(events)) return events;
    await sleep(20);
  }
  throw new Error(`recorded events did not match within ${timeoutMs} ms: ${JSON.stringify(readRecord(file))}`);
}

export function tempDir(prefix = 'eveai-sup-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
