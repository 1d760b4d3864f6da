// The only place that spawns and waits. It knows nothing about gunicorn or celery: it follows the plan.
import type { Logger } from '../log.js';
import type { Plan } from './plan.js';
import type { HandledSignal } from '../signals/trap.js';
import { EXIT, exitCodeOfChild } from '../exit-codes.js';
import { spawnChild } from './spawn.js';
import { describeMembers, groupMembers, type Member } from './process-group.js';
import { StopSequence, logDropped, type StopState } from './stop-sequence.js';
import { killEscapees, markDescendants } from './escapees.js';
import { logStopSummary } from './stop-summary.js';
import { readEveryProcStat } from './proc-stat.js';

/** How often group membership is re-read while (and only while) the group drains after the leader exited. */
const GROUP_POLL_MS = 25;
/** After SIGKILL only an uninterruptible sleep keeps a process alive; do not wait for it forever. */
const AFTER_KILL_WAIT_MS = 2000;

export interface SupervisionHooks {
  /** Called with the leader's pid right after spawn: the entry point arms the last-resort group kill. */
  onSpawn(pid: number): void;
  /** Every handled signal from now on goes to `handler`. */
  routeSignals(handler: (signal: HandledSignal) => void): void;
  /** Called once the program runs, with a read-only view of it (the probe endpoint answers from it). */
  onRunning?(view: ProgramView): void;
}

/** What the probes may know about the running program; nothing here can change it. */
export interface ProgramView {
  pid: number;
  /** Date.now() at spawn. */
  startedAt: number;
  exited(): boolean;
  stopState(): StopState;
}

export async function supervise(plan: Plan, programPath: string, log: Logger, hooks: SupervisionHooks): Promise<number> {
  const runToken = markDescendants();
  const child = spawnChild(programPath, plan.argv.slice(1));
  if (child.pid === undefined) {
    const end = await child.ended;
    log.error({ event: 'child.spawn_failed', program: programPath, error: end.spawnError }, `could not start ${programPath}`);
    return EXIT.NOT_EXECUTABLE;
  }
  const pid = child.pid;
  const startedAt = Date.now();
  hooks.onSpawn(pid);
  log.info({ event: 'child.spawn', child_pid: pid, argv: plan.argv }, `started ${plan.argv[0]} as pid ${pid} in its own process group`);

  const stop = new StopSequence(pid, child.hasExited, plan, log);
  hooks.routeSignals((signal) => stop.onSignal(signal));
  hooks.onRunning?.({ pid, startedAt, exited: child.hasExited, stopState: () => stop.current });

  const end = await child.ended;
  const code = exitCodeOfChild(end.code, end.signal);
  log.info(
    { event: 'child.exit', child_pid: pid, code: end.code ?? null, signal: end.signal ?? null, runtime_ms: Date.now() - startedAt },
    end.signal ? `pid ${pid} was killed by ${end.signal}` : `pid ${pid} exited with code ${end.code}`,
  );

  // One pass over /proc answers both questions when the group is already gone: is anything left of it, and did
  // anything escape it (on a host, each pass reads hundreds of files).
  const processes = readEveryProcStat();
  const left = groupMembers(pid, processes);
  stop.onLeaderExit(left.length);
  const survivors = await waitForGroup(pid, left, stop, log);
  stop.finish();
  // Nothing is left to signal or to time: a signal from here to the exit is logged and dropped, not fed to a
  // sequence that has ended (it would call a late TERM "a stop already in progress").
  hooks.routeSignals((signal) => logDropped(log, signal, 'the program has ended'));
  const escapees = killEscapees(runToken, log, left.length === 0 ? processes : undefined).length;
  logStopSummary(log, stop.timeline, {
    programCode: end.code ?? null,
    programSignal: end.signal ?? null,
    survivors,
    escapees,
    exitCode: code,
  });
  return code;
}

/**
 * Returns once no process of the group is alive (0), or how many survived SIGKILL; the stop sequence's timers
 * escalate meanwhile.
 */
async function waitForGroup(pid: number, left: Member[], stop: StopSequence, log: Logger): Promise<number> {
  let members = left;
  if (members.length === 0) return 0;
  log.info({ event: 'group.wait', members: describeMembers(members) }, `waiting for ${members.length} process(es) left in the group`);
  let killedAt: number | undefined;
  while (members.length > 0) {
    if (stop.killed) {
      killedAt ??= Date.now();
      if (Date.now() - killedAt > AFTER_KILL_WAIT_MS) {
        log.error({ event: 'group.survivors', members: describeMembers(members) }, 'processes survived SIGKILL (uninterruptible sleep?)');
        return members.length;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS)); // not node:timers/promises: one module less at start-up
    members = groupMembers(pid);
  }
  log.info({ event: 'group.empty' }, 'no process of the group is left');
  return 0;
}
