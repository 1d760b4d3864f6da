// The one reader of /proc/PID/stat: the fields the supervisor and its probes act on.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** The command name (comm), at most 15 characters. */
  command: string;
  /** R, S, D, Z (zombie: dead, only not reaped), T (stopped), t, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** User + system CPU time in clock ticks: unchanged while the process sleeps. */
  cpuTicks: number;
}

/** undefined when the process is gone (or exited while it was read). */
export function readProcStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' '); // from field 3 (state) on
  const [state = '', ppid, pgrp, session] = fields;
  return {
    command: text.slice(text.indexOf('(') + 1, close),
    state,
    ppid: Number(ppid),
    pgrp: Number(pgrp),
    session: Number(session),
    cpuTicks: Number(fields[11]) + Number(fields[12]), // utime and stime, fields 14 and 15
  };
}
