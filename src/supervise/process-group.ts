// The child's process group (and session: it was started with setsid, so both ids equal its pid).
// Membership is read from /proc: a zombie is not a member worth waiting for (it is dead, only unreaped),
// and a process that stays in the session but moved to another group is still ours.
import { readEveryProcStat, type ProcStat } from './proc-stat.js';

export interface Member {
  pid: number;
  command: string;
}

/** Live processes whose process group or session is `leaderPid`: in `processes` when given, else in /proc now. */
export function groupMembers(leaderPid: number, processes: Map<number, ProcStat> | undefined = readEveryProcStat()): Member[] {
  if (!processes) return probeWithoutProc(leaderPid);
  const members: Member[] = [];
  for (const [pid, stat] of processes) {
    if (stat.state !== 'Z' && (stat.pgrp === leaderPid || stat.session === leaderPid)) members.push({ pid, command: stat.command });
  }
  return members;
}

/** Members as the log shows them, `pid:command`, at most 20 (a fork bomb must not make one line huge). */
export function describeMembers(members: readonly Member[]): string[] {
  return members.slice(0, 20).map(({ pid, command }) => `${pid}:${command}`);
}

/** Without /proc (unusual in a container): kill(-pgid, 0) tells whether anyone is left, not who. */
function probeWithoutProc(leaderPid: number): Member[] {
  return sendToGroup(leaderPid, 0) ? [{ pid: leaderPid, command: '?' }] : [];
}

/** Signals every process of the group; false when nobody was left to receive it. */
export function sendToGroup(leaderPid: number, signal: NodeJS.Signals | 0): boolean {
  return send(-leaderPid, signal);
}

/** Signals the leader alone; false when it is already gone. */
export function sendToLeader(leaderPid: number, signal: NodeJS.Signals): boolean {
  return send(leaderPid, signal);
}

function send(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
