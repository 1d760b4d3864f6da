// Processes that leave the child's process group and session (setsid(), start_new_session=True, a
// double-forked daemon) are out of reach of every signal the supervisor sends to the group, and the group
// wait does not see them. In the container they die anyway when the supervisor exits (tini, PID 1 of the
// namespace, exits and the kernel SIGKILLs what is left); anywhere else they would outlive the supervisor.
//
// To find them wherever they moved, the child is started with EVEAI_SUPERVISOR_RUN=<token> in its
// environment: every descendant inherits it (unless it clears its environment), and /proc/PID/environ keeps
// the environment a process started with. Once the group is gone, whatever still carries the token has
// escaped: a warning names it and it gets SIGKILL, which is exactly what the namespace teardown does in the
// container, so the outcome is the same with or without a PID namespace.
import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from '../log.js';
import { describeMembers, type Member } from './process-group.js';
import { readEveryProcStat, type ProcStat } from './proc-stat.js';

export const RUN_MARKER = 'EVEAI_SUPERVISOR_RUN';

/**
 * Puts a fresh token into the supervisor's own environment, which the child inherits (the spawn passes
 * process.env). Call right before spawning. Returns the token to look for later.
 */
export function markDescendants(): string {
  // Unique among live processes by the pid, across pid reuse by the clock; no secret is needed, so no
  // node:crypto (loading it costs ~3 ms of start-up and 1.6 MB resident: bench/RESULTS.md).
  const token = `${process.pid}.${process.hrtime.bigint().toString(36)}`;
  process.env[RUN_MARKER] = token;
  return token;
}

/**
 * Live processes, other than the supervisor, that started with this token in their environment: in `processes` when
 * given (one pass over /proc shared with the group's), else in /proc now.
 */
export function findEscapees(token: string, processes?: Map<number, ProcStat>): Member[] {
  const entry = `${RUN_MARKER}=${token}\0`;
  try {
    // A /proc of another PID namespace (a new namespace without its own /proc mounted) shows pids that
    // kill() would read differently: then nothing is looked for rather than the wrong process killed.
    if (readlinkSync('/proc/self') !== String(process.pid)) return [];
  } catch {
    return []; // no /proc: nothing can be found (unusual in a container)
  }
  const all = processes ?? readEveryProcStat();
  if (!all) return [];
  // Every descendant of the program started after the supervisor did: the environment of an older process (nearly
  // all of them on a host, where reading each one costs milliseconds in all) cannot hold the token and is not read.
  const since = all.get(process.pid)?.startTime ?? 0;
  const found: Member[] = [];
  for (const [pid, stat] of all) {
    // Not the supervisor, not a zombie (dead, only not reaped yet), not older than the supervisor.
    if (pid === process.pid || stat.state === 'Z' || !(stat.startTime >= since)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read (another user's process cannot be ours)
    }
    if (environ.startsWith(entry) || environ.includes(`\0${entry}`)) found.push({ pid, command: stat.command });
  }
  return found;
}

/** Names and SIGKILLs every escapee still alive; returns them. Called once the child's group is gone. */
export function killEscapees(token: string, log: Logger, processes?: Map<number, ProcStat>): Member[] {
  const escapees = findEscapees(token, processes);
  if (escapees.length === 0) return escapees;
  log.warn(
    { event: 'group.escapees', members: describeMembers(escapees) },
    `${escapees.length} process(es) left the program's process group (setsid) and outlived it: SIGKILL, as the container's PID namespace teardown would`,
  );
  for (const { pid } of escapees) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile, or not ours to signal
    }
  }
  return escapees;
}
