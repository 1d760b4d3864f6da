/**
 * Reading processes from the host side through /proc: which processes live in a PID namespace, their
 * namespace pid, parent, name, and whether a process we saw earlier is still the same live process.
 */
import fs from 'node:fs';

export interface Proc {
  pid: number; // host pid
  nsPid: number; // pid inside its own (innermost) namespace
  ppid: number; // host pid of the parent
  pgid: number;
  uid: number;
  comm: string;
  cmdline: string;
  state: string;
  startTime: string; // field 22 of /proc/pid/stat: tells a live process from a reused pid
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readProc(pid: number): Proc | undefined {
  const status = read(`/proc/${pid}/status`);
  const stat = read(`/proc/${pid}/stat`);
  if (!status || !stat) return undefined;
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1] ?? '';
  const nsPids = field('NSpid').split(/\s+/).filter(Boolean).map(Number);
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return {
    pid,
    nsPid: nsPids[nsPids.length - 1] ?? pid,
    ppid: Number(field('PPid')),
    pgid: Number(afterComm[2]),
    uid: Number(field('Uid').split(/\s+/)[0]),
    comm: field('Name'),
    cmdline: (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' '),
    state: afterComm[0] ?? '?',
    startTime: afterComm[19] ?? '',
  };
}

export function pidNamespace(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Every process whose PID namespace is `ns` (e.g. "pid:[4026532451]"). */
export function namespaceMembers(ns: string): Proc[] {
  const members: Proc[] = [];
  for (const pid of allPids()) {
    if (pidNamespace(pid) !== ns) continue;
    const proc = readProc(pid);
    if (proc) members.push(proc);
  }
  return members.sort((a, b) => a.nsPid - b.nsPid);
}

export function childrenOf(pid: number): Proc[] {
  const children: Proc[] = [];
  for (const candidate of allPids()) {
    const proc = readProc(candidate);
    if (proc && proc.ppid === pid) children.push(proc);
  }
  return children;
}

/** True while the very process we saw (same pid, same start time) exists and is not a zombie. */
export function stillAlive(proc: Proc): boolean {
  const now = readProc(proc.pid);
  return !!now && now.startTime === proc.startTime && now.state !== 'Z';
}
