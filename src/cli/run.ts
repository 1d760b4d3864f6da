// Running a valid plan: announce it (with what the process tree around it gets wrong: PID 1, root, `tini -g`), open
// the probe endpoint if asked, honour a stop that came before the program did, then hand over to supervise/ (or, in
// exec mode, become the program).
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { EXIT, signalNumber } from '../exit-codes.js';
import { describeSettings } from '../config/common.js';
import { routeSignals, takePendingSignals } from '../signals/trap.js';
import type { Plan } from '../supervise/plan.js';
import { findProgram } from '../supervise/find-program.js';
import { supervise } from '../supervise/supervise.js';
import { execProgram } from '../supervise/exec.js';
import { StopTimeline, logStopSummary } from '../supervise/stop-summary.js';
import { logDropped } from '../supervise/stop-sequence.js';
import type { ProbeServer } from '../probes/server.js';
import { VERSION } from './version.js';
import { forgetGroup, watchGroup } from './last-resort.js';
import { collectStartupGarbageOnce } from './startup-gc.js';
import { injectFaultForTests } from './fault-injection.js';
import type { Advice } from '../plan/findings.js';
import { tiniGroupAdvice } from '../plan/parent-init.js';
import { logAdvice } from './advice.js';

export async function runPlan(plan: Plan, log: Logger): Promise<number> {
  log.info(
    { event: 'supervisor.start', version: VERSION, role: plan.role, node: process.version, ...describeSettings(plan.settings) },
    `eveai-supervisor ${VERSION} starting ROLE=${plan.role}`,
  );
  warnAboutTopology(log);
  // Before the program starts, so a startup probe gets an answer ("starting") from the first second.
  let probes: ProbeServer | undefined;
  if (plan.settings.probePort !== undefined) {
    probes = await startProbes(plan, log);
    if (!probes) return EXIT.INTERNAL;
  }

  const stoppedEarly = await stopRequestedBeforeStart(plan, log);
  if (stoppedEarly !== undefined) return stoppedEarly;

  const program = plan.argv[0] ?? '';
  const found = findProgram(program, process.env.PATH);
  if (!found.ok) {
    log.error(
      { event: 'child.spawn_failed', program, reason: found.reason, path: process.env.PATH ?? '' },
      `cannot run ${program}: ${found.reason} (PATH=${process.env.PATH ?? ''})`,
    );
    return found.exitCode;
  }
  if (plan.settings.mode === 'exec') execProgram(plan, found.path, log);

  return supervise(plan, found.path, log, {
    onSpawn: (pid) => {
      watchGroup(pid);
      collectStartupGarbageOnce();
      injectFaultForTests();
    },
    routeSignals,
    onRunning: (view) => probes?.attach(view),
  }).finally(forgetGroup);
}

/**
 * The signals that reached the supervisor before this point, in order: a stop request means the program is never
 * started (returns the exit code, 128 + the signal); any other signal has nobody to go to and is dropped.
 */
async function stopRequestedBeforeStart(plan: Plan, log: Logger): Promise<number | undefined> {
  for (const signal of await takePendingSignals()) {
    const rule = plan.policy.rules[signal];
    log.info({ event: 'signal.received', signal, action: rule.action, state: 'starting' }, `received ${signal} before the program started`);
    if (rule.action === 'stop' || rule.action === 'stop-now') {
      log.info({ event: 'shutdown.before_start' }, 'stop requested before the program started: not starting it');
      const timeline = new StopTimeline();
      timeline.requestedBy = signal;
      const exitCode = 128 + signalNumber(signal);
      logStopSummary(log, timeline, { programCode: null, programSignal: null, survivors: 0, escapees: 0, exitCode });
      return exitCode;
    }
    logDropped(log, signal, 'the program had not started yet');
  }
  return undefined;
}

/** Loaded only when PROBE_PORT is set: without probes, neither their code nor node:http runs. undefined: not listening. */
async function startProbes(plan: Plan, log: Logger): Promise<ProbeServer | undefined> {
  const { startProbeServer } = await import('../probes/server.js');
  try {
    return await startProbeServer(plan, log);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.error(
      { event: 'probe.listen_failed', port: plan.settings.probePort, reason },
      `cannot listen on PROBE_PORT ${plan.settings.probePort}: ${reason}; not starting the program`,
    );
    return undefined;
  }
}

function warnAboutTopology(log: Logger): void {
  if (process.pid === 1) {
    log.warn(
      { event: 'supervisor.pid1' },
      'running as PID 1: orphaned processes will not be reaped; put tini in front (ENTRYPOINT ["/usr/bin/tini-static","--"])',
    );
  }
  const parentAdvice = parentInitAdvice();
  if (parentAdvice) logAdvice(log, parentAdvice);
  if (process.getuid?.() === 0) {
    log.warn({ event: 'supervisor.root' }, 'running as root: the image runs as a non-root user; run as one unless root is really needed');
  }
}

/** plan/parent-init.ts on the real parent: its argv and the supervisor's own, as the kernel holds them. */
function parentInitAdvice(): Advice | undefined {
  // 0 for PID 1 of a namespace (its parent is outside it): nothing to read.
  const parent = process.ppid > 0 ? argvOf(process.ppid) : undefined;
  return parent && tiniGroupAdvice(parent, argvOf('self') ?? [], process.env);
}

/** /proc/PID/cmdline as words (each ends with a NUL); undefined when it cannot be read (gone, hidepid). */
function argvOf(pid: number | 'self'): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}
