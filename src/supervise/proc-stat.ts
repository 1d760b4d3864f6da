// The one reader of /proc/PID/stat: the fields the supervisor and its probes act on.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

export interface ProcStat {
  /** The command name (comm), at most 15 characters. */
  command: string;
  /** R, S, D, Z (zombie: dead, only not reaped), T (stopped), t, … */
  state: string;
  pgrp: number;
  session: number;
  /** When the process started, in clock ticks after boot: a process started later has a larger value (or an equal one). */
  startTime: number;
}

/**
 * One buffer for every read: the fields used here end within the first ~500 bytes of the line whatever their values
 * (comm is at most 64 bytes). readFileSync would allocate 64 KiB per file (a /proc file reports size 0): on a host
 * with hundreds of processes, megabytes of garbage per scan.
 */
const line = Buffer.allocUnsafe(1024);

/** undefined when the process is gone (or exited while it was read). */
export function readProcStat(pid: number | string): ProcStat | undefined {
  let length: number;
  try {
    const fd = openSync(`/proc/${pid}/stat`, 'r');
    try {
      length = readSync(fd, line, 0, line.length, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const text = line.toString('latin1', 0, length);
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  // priority nice num_threads itrealvalue starttime …": comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  const fields = text.slice(close + 2).split(' ', 20);
  return {
    command: text.slice(text.indexOf('(') + 1, close),
    state: fields[0] ?? '',
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTime: Number(fields[19]),
  };
}

/** Every live process (zombies included) with its stat, in one pass over /proc; undefined when /proc cannot be listed. */
export function readEveryProcStat(): Map<number, ProcStat> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const processes = new Map<number, ProcStat>();
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readProcStat(entry);
    if (stat) processes.set(Number(entry), stat);
  }
  return processes;
}
