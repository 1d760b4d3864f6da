// A stop that can no longer move by itself, read from /proc. The shape: the leader sleeps in wait4() for a child to
// exit, and every child of the leader sleeps in read() on a pipe that the leader writes to, whose other write ends
// (as far as the program's group holds them) belong only to the leader's other sleeping children. Nothing in it can run again until a signal arrives: the
// children wait for input that only a waiting process could send, and the leader waits for them. So none of them is
// doing any work: the deadline protects nothing there.
//
// What makes it (the worker's policy says why it is worth looking for): celery 5.2's warm shutdown raises from its
// TERM handler wherever the main process is (fixed in 5.3, celery PR #7339). Raised while the main process writes a
// job to a prefork pool child, it leaves the child holding half a job and waiting for the rest; the stop sentinel
// that follows is read as part of that job, and the main process then waits in the pool's join for a child that
// never exits. A child that runs a task (sleeping, computing, waiting on a socket or on another program's pipe)
// breaks the shape, and so does a leader with a second thread, which could still write.
//
// Conservative by construction: anything that cannot be read (no /proc, another PID namespace's /proc, a process
// that is not ours, an architecture whose syscall numbers are not listed here) means "not proven", never "closed".
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readProcStat } from './proc-stat.js';

/** System call numbers as /proc/PID/syscall shows them, per architecture (Linux's unistd tables). */
const SYSCALLS: Partial<Record<NodeJS.Architecture, { read: number; wait4: number }>> = {
  x64: { read: 0, wait4: 61 },
  arm64: { read: 63, wait4: 260 },
};

export interface ClosedWait {
  /** The waiting children, `pid:command` (as group.wait shows members). */
  children: string[];
  /** The same wait seen again has the same key: the caller confirms it over time before acting. */
  key: string;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** The call a process sleeps in: its number and first argument; undefined when it runs or cannot be read. */
function blockedIn(pid: number): { call: number; arg0: number } | undefined {
  const fields = read(`/proc/${pid}/syscall`)?.trim().split(' ');
  if (!fields || fields.length < 2 || !/^[0-9]+$/.test(fields[0]!)) return undefined; // "running", "-1 …", unreadable
  return { call: Number(fields[0]), arg0: Number(fields[1]) };
}

function singleThreaded(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).length === 1;
  } catch {
    return false;
  }
}

/** The pipe inode behind `fd` of `pid` ("pipe:[123]" -> "123"), undefined for anything else. */
function pipeOf(pid: number, fd: number | string): string | undefined {
  try {
    return /^pipe:\[([0-9]+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
}

/** For each of `pipes`, the pids of `holders` holding a write end of it; undefined when some holder's descriptors cannot be read. */
function writersOf(pipes: Set<string>, holders: number[]): Map<string, Set<number>> | undefined {
  const writers = new Map([...pipes].map((pipe) => [pipe, new Set<number>()]));
  for (const pid of holders) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      if (readProcStat(pid) === undefined) continue; // gone meanwhile
      return undefined;
    }
    for (const fd of fds) {
      const pipe = pipeOf(pid, fd);
      if (pipe === undefined || !pipes.has(pipe)) continue;
      const flags = /^flags:\s*([0-7]+)/m.exec(read(`/proc/${pid}/fdinfo/${fd}`) ?? '')?.[1];
      if (flags === undefined) return undefined;
      if ((parseInt(flags, 8) & 3) !== 0) writers.get(pipe)!.add(pid); // O_WRONLY or O_RDWR
    }
  }
  return writers;
}

/** The closed wait the leader's group is in right now, or undefined when it is not in one (or it cannot be told). */
export function findClosedWait(leaderPid: number): ClosedWait | undefined {
  const calls = SYSCALLS[process.arch];
  if (!calls) return undefined;
  let pids: string[];
  try {
    if (readlinkSync('/proc/self') !== String(process.pid)) return undefined; // another namespace's /proc
    pids = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const leader = readProcStat(leaderPid);
  if (leader?.state !== 'S' || !singleThreaded(leaderPid) || blockedIn(leaderPid)?.call !== calls.wait4) return undefined;

  const group: number[] = [];
  const children: { pid: number; command: string; pipe: string; cpuTicks: number }[] = [];
  for (const entry of pids) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readProcStat(entry);
    if (!stat || stat.state === 'Z' || (stat.pgrp !== leaderPid && stat.session !== leaderPid)) continue;
    const pid = Number(entry);
    group.push(pid);
    if (stat.ppid !== leaderPid) continue;
    const call = blockedIn(pid);
    if (stat.state !== 'S' || !singleThreaded(pid) || call?.call !== calls.read) return undefined;
    const pipe = pipeOf(pid, call.arg0);
    if (pipe === undefined) return undefined;
    children.push({ pid, command: stat.command, pipe, cpuTicks: stat.cpuTicks });
  }
  if (children.length === 0) return undefined;

  const waiting = new Set([leaderPid, ...children.map((child) => child.pid)]);
  const writers = writersOf(new Set(children.map((child) => child.pipe)), group);
  if (!writers) return undefined;
  for (const child of children) {
    const holders = writers.get(child.pipe)!;
    // The leader feeds the pipe (a child waiting for its job), the child cannot wake itself (no self-pipe a signal
    // handler of its own writes to), and nobody outside the waiting processes can write to it.
    if (!holders.has(leaderPid) || holders.has(child.pid) || [...holders].some((pid) => !waiting.has(pid))) return undefined;
  }
  return {
    children: children.map(({ pid, command }) => `${pid}:${command}`),
    key: children.map(({ pid, pipe, cpuTicks }) => `${pid}/${pipe}/${cpuTicks}`).join(','),
  };
}
