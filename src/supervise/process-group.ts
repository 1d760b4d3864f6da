// The child's process group (and session: it was started with setsid, so both ids equal its pid).
// Membership is read from /proc: a zombie is not a member worth waiting for (it is dead, only unreaped),
// and a process that stays in the session but moved to another group is still ours.
import { readdirSync, readFileSync } from 'node:fs';

export interface Member {
  pid: number;
  command: string;
}

/** Live processes whose process group or session is `leaderPid`. */
export function groupMembers(leaderPid: number): Member[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return probeWithoutProc(leaderPid);
  }
  const members: Member[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat && stat.state !== 'Z' && (stat.pgrp === leaderPid || stat.session === leaderPid)) {
      members.push({ pid: Number(entry), command: stat.command });
    }
  }
  return members;
}

function readStat(pid: string) {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // it exited while we looked
  }
  // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses, so split after the last ')'.
  const close = text.lastIndexOf(')');
  const [state, , pgrp, session] = text.slice(close + 2).split(' ');
  return { command: text.slice(text.indexOf('(') + 1, close), state, pgrp: Number(pgrp), session: Number(session) };
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
