// Facts the probes read from the kernel and the file system: no process is started for them.
import { statSync } from 'node:fs';
import { readProcStat } from '../supervise/proc-stat.js';

/** The state letter of /proc/PID/stat (R, S, D, Z, T, t, …), or undefined when there is no such process. */
export function processState(pid: number): string | undefined {
  return readProcStat(pid)?.state || undefined;
}

/**
 * File times come from the kernel's coarse clock, up to one tick (10 ms at HZ=100) behind Date.now(): a heartbeat
 * written right after the spawn may carry a time just before it and is still this run's. An earlier run's last
 * heartbeat is older than that by the whole restart.
 */
const CLOCK_TICK_SLACK_MS = 50;

/**
 * Milliseconds since `file` was last modified, or undefined when it does not exist or was last touched before
 * `since` (a heartbeat left by an earlier run of the program in the same volume does not count).
 */
export function heartbeatAge(file: string, since: number, now = Date.now()): number | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  if (mtimeMs < since - CLOCK_TICK_SLACK_MS) return undefined;
  return Math.max(0, now - mtimeMs);
}
