// shutdown.summary: one line, before supervisor.exit, that says why a stop happened and where its time went, so
// an operator does not have to reassemble a slow stop from the drain, graceful, escalate and exit lines.
import type { Logger } from '../log.js';
import type { Target } from './plan.js';

/** The stop sequence's steps: drain (web), graceful (stop signal, or waiting for what the program left), hard, kill. */
export type Phase = 'drain' | 'graceful' | 'hard' | 'kill';

interface PhaseStart {
  phase: Phase;
  /** What was sent when the phase began; null when nothing was (drain, or a group left behind by the program). */
  signal: string | null;
  target: Target | null;
  /** Live processes of the program's group when the phase began; null: not counted (the stop signal's step). */
  processes: number | null;
  at: number;
}

/** The phases of one stop as they happen: the stop sequence records, supervise() reports. */
export class StopTimeline {
  readonly phases: PhaseStart[] = [];
  /** The signal that asked for the stop; undefined when the program ended on its own. */
  requestedBy: string | undefined;

  enter(phase: Phase, signal: string | null, target: Target | null, processes: number | null): void {
    this.phases.push({ phase, signal, target, processes, at: Date.now() });
  }
}

export interface StopOutcome {
  /** How the program's main process ended; both null when it never started. */
  programCode: number | null;
  programSignal: string | null;
  /** Processes still alive after SIGKILL (group.survivors) and descendants killed outside the group (group.escapees). */
  survivors: number;
  escapees: number;
  exitCode: number;
}

export function logStopSummary(log: Logger, timeline: StopTimeline, outcome: StopOutcome): void {
  const end = Date.now();
  const phases = timeline.phases.map((p, i) => ({
    phase: p.phase,
    signal: p.signal,
    target: p.target,
    processes: p.processes,
    ms: (timeline.phases[i + 1]?.at ?? end) - p.at,
  }));
  const cause = timeline.requestedBy ? 'stop_signal' : outcome.programSignal ? 'program_killed' : 'program_exited';
  const total_ms = timeline.phases.length > 0 ? end - timeline.phases[0]!.at : 0;
  log.info(
    {
      event: 'shutdown.summary',
      cause,
      stop_signal: timeline.requestedBy ?? null,
      program_code: outcome.programCode,
      program_signal: outcome.programSignal,
      phases,
      escalated: phases.filter((p) => p.phase === 'hard' || p.phase === 'kill').map((p) => p.phase),
      survivors: outcome.survivors,
      escapees: outcome.escapees,
      total_ms,
      exit_code: outcome.exitCode,
    },
    describe(cause, timeline.requestedBy, outcome, phases, total_ms),
  );
}

function describe(
  cause: string,
  requestedBy: string | undefined,
  outcome: StopOutcome,
  phases: { phase: Phase; signal: string | null; target: Target | null; processes: number | null; ms: number }[],
  totalMs: number,
): string {
  const why =
    cause === 'stop_signal'
      ? `stop requested by ${requestedBy}`
      : cause === 'program_killed'
        ? `the program was killed by ${outcome.programSignal}`
        : `the program exited with code ${outcome.programCode}`;
  const steps = phases.map((p) => {
    const details = [
      p.signal ? `${p.signal} to the ${p.target}` : '',
      p.processes === null ? '' : `${p.processes} process${p.processes === 1 ? '' : 'es'}`,
    ].filter(Boolean);
    return `${p.phase} ${seconds(p.ms)}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  });
  const leftovers = [
    outcome.survivors > 0 ? `${outcome.survivors} survived SIGKILL` : '',
    outcome.escapees > 0 ? `${outcome.escapees} escaped the group` : '',
  ].filter(Boolean);
  const how = steps.length > 0 ? `, took ${seconds(totalMs)}: ${steps.join(', ')}` : '';
  return `${why}${how}${leftovers.length > 0 ? `; ${leftovers.join(', ')}` : ''}; exit code ${outcome.exitCode}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
