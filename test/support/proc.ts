// The tests' one reader of /proc: every other helper and test asks here what a process is (state, parent, group,
// session, start time, namespace pid), whom it has as children, which signals it catches, how much memory it holds,
// which processes share a PID namespace, a marker or a directory. /proc/PID/stat is parsed in one place (stat()).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/** Every pid in /proc right now. */
export function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^[0-9]+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

export interface Stat {
  pid: number;
  /** The name between the parentheses (may itself contain spaces and parentheses). */
  comm: string;
  /** R, S, D, T, Z, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22, in clock ticks since boot: tells a live process from a reused pid. */
  startTime: string;
}

/** /proc/PID/stat (or a thread's, with `tid`), parsed; undefined once the process is gone. */
export function stat(pid: number, tid?: number): Stat | undefined {
  const text = read(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
  if (!text) return undefined;
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' '); // from field 3 (state) on
  return {
    pid: tid ?? pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTime: fields[19] ?? '',
  };
}

/** One line's value of /proc/PID/status ("NSpid", "SigCgt", "VmRSS", …); undefined when gone or absent. */
export function statusField(pid: number, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(read(`/proc/${pid}/status`) ?? '')?.[1];
}

/** Whether `pid` runs: not gone, and not a zombie waiting for its parent to reap it. */
export function isRunning(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z';
}

/** The children of `pid` (its main thread's), in the order the kernel lists them. */
export function childrenOf(pid: number): number[] {
  return (read(`/proc/${pid}/task/${pid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** tini's host pid: `unshare --fork` runs it as its only child (waits up to 2 s for it, synchronously). */
export function pidOneOf(unsharePid: number): number {
  for (let i = 0; i < 200; i++) {
    const children = childrenOf(unsharePid);
    if (children.length > 0) return children[0]!;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new Error(`unshare ${unsharePid} has no child`);
}

export interface Proc {
  pid: number; // host pid
  nsPid: number; // pid inside its own (innermost) namespace
  ppid: number; // host pid of the parent
  pgid: number;
  uid: number;
  comm: string;
  cmdline: string;
  state: string;
  startTime: string;
}

/** What the real-process tests want to know of a process, from stat, status and cmdline. */
export function readProc(pid: number): Proc | undefined {
  const s = stat(pid);
  const nsPids = statusField(pid, 'NSpid')?.split(/\s+/).filter(Boolean).map(Number);
  const uid = statusField(pid, 'Uid');
  if (!s || !nsPids || uid === undefined) return undefined;
  return {
    pid,
    nsPid: nsPids.at(-1) ?? pid,
    ppid: s.ppid,
    pgid: s.pgrp,
    uid: Number(uid.split(/\s+/)[0]),
    comm: statusField(pid, 'Name') ?? s.comm,
    cmdline: (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' '),
    state: s.state,
    startTime: s.startTime,
  };
}

/** True while the very process seen earlier (same pid, same start time) exists and is not a zombie. */
export function stillAlive(proc: Proc): boolean {
  const now = stat(proc.pid);
  return !!now && now.startTime === proc.startTime && now.state !== 'Z';
}

/** The PID namespace of `pid`, e.g. "pid:[4026532451]". */
export function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Every process whose PID namespace is `ns`, by namespace pid. */
export function namespaceMembers(ns: string): Proc[] {
  return allPids()
    .filter((pid) => pidNamespace(pid) === ns)
    .map(readProc)
    .filter((proc): proc is Proc => proc !== undefined)
    .sort((a, b) => a.nsPid - b.nsPid);
}

/** The host pid of the process known as `nsPid` inside the PID namespace that `memberHostPid` belongs to. */
export function hostPidOf(nsPid: number, memberHostPid: number): number | undefined {
  const namespace = pidNamespace(memberHostPid);
  if (namespace === undefined) return undefined;
  return namespaceMembers(namespace).find((proc) => proc.nsPid === nsPid)?.pid;
}

/**
 * Whether `pid` runs tini (tini, tini-static) and it has blocked the signals it forwards: SigBlk has SIGTERM, or SigIgn
 * has SIGTTOU, which tini ignores right after its sigprocmask(). SigBlk alone shows it only between waits: while tini
 * sleeps in sigtimedwait() the kernel reports the waited signals as unblocked (they stay blocked in its real_blocked
 * set: a signal sent then is queued for tini, not dropped). The name matters: unshare's child, before it execs tini,
 * has TERM blocked too (inherited from unshare) but unblocks it before the exec, and a TERM held until then is dropped.
 */
export function tiniHasBlockedSignals(pid: number): boolean {
  if (!/^tini/.test(statusField(pid, 'Name') ?? '')) return false;
  return inSignalMask(pid, 'SigBlk', 15) || inSignalMask(pid, 'SigIgn', 22);
}

/** Whether `pid` has a handler installed for signal number `signalNumber` (/proc/PID/status SigCgt). */
export function catches(pid: number, signalNumber: number): boolean {
  return inSignalMask(pid, 'SigCgt', signalNumber);
}

/** Whether signal number `signalNumber` is in one of the masks of /proc/PID/status (SigBlk, SigIgn, SigCgt, …). */
function inSignalMask(pid: number, field: string, signalNumber: number): boolean {
  const mask = statusField(pid, field);
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signalNumber - 1))) !== 0n;
}

/** Resident memory of `pid` in kB. */
export function rssKb(pid: number): number | undefined {
  const match = /^([0-9]+) kB/.exec(statusField(pid, 'VmRSS') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** How many sockets `pid` holds open (/proc/PID/fd entries that are sockets); undefined once it is gone. */
export function openSockets(pid: number): number | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  let sockets = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {} // closed meanwhile
  }
  return sockets;
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

/** Live processes that carry `marker` (NAME=value) in their environment: finds every descendant, wherever it moved. */
export function processesWithMarker(marker: string): number[] {
  return allPids().filter((pid) => isRunning(pid) && (read(`/proc/${pid}/environ`) ?? '').includes(marker));
}

/** Sends `signal` to each of `pids` that still exists; returns `pids`. */
export function killAll(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): number[] {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** SIGKILLs every live process carrying `marker` in its environment; returns the pids it found. */
export function killProcessesWithMarker(marker: string): number[] {
  return killAll(processesWithMarker(marker));
}

/** PIDs of processes (this one aside) whose command line mentions `text` (conmon, podman, runc of a sandbox). */
export function processesMentioning(text: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && (read(`/proc/${pid}/cmdline`) ?? '').includes(text));
}

/** Mount points at or below `dir` in this process's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  return (read('/proc/self/mountinfo') ?? '')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => !!mountPoint && (mountPoint === dir || mountPoint.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** The hard limit of an rlimit of this process ("Max open files", "Max processes"); `fallback` when unlimited. */
export function hardLimit(name: string, fallback: number): number {
  const line = (read('/proc/self/limits') ?? '').split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === 'unlimited' ? fallback : Number(hard);
}

/**
 * What /proc says about a process that may explain why it is still there: its state, parent, group, session,
 * pending/blocked/caught signals, and for every thread the kernel function it waits in and its current syscall.
 */
export function procPicture(pid: number): string {
  const s = stat(pid);
  if (!s) return `${pid} (gone)`;
  const signals = (read(`/proc/${pid}/status`) ?? '')
    .split('\n')
    .filter((l) => /^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)/.test(l))
    .map((l) => l.replace(/\s+/, '='))
    .join(' ');
  const lines = [`${pid} (${s.comm}) state=${s.state} ppid=${s.ppid} pgrp=${s.pgrp} sid=${s.session} ${signals}`];
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    // gone meanwhile
  }
  for (const tid of threads) {
    const thread = stat(pid, Number(tid));
    const syscall = (read(`/proc/${pid}/task/${tid}/syscall`) ?? '?').trim().split(' ').slice(0, 3).join(' ');
    lines.push(
      `  thread ${tid} (${thread?.comm ?? '?'}) ${thread?.state ?? '?'} wchan=${read(`/proc/${pid}/task/${tid}/wchan`) ?? '?'} syscall=${syscall}`,
    );
  }
  return lines.join('\n');
}
