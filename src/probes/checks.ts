// What /live and /ready answer, decided from plain facts so it can be tested without processes.
// Liveness asks "would a restart help?": it fails only for a program that is gone, a zombie, stopped (SIGSTOP)
// or, when a heartbeat is configured, one whose main loop stopped touching the heartbeat file. A stop in progress
// is never a liveness failure: the supervisor's own deadline ends it, and a kubelet restart would cut it short.
// Readiness asks "should traffic come here?": only while running and not stopping, and (web) once the program
// accepts connections on its port.

export type Phase = 'starting' | 'running' | 'draining' | 'stopping' | 'exited';

/** The kernel's state letter of the leader (/proc/PID/stat), or undefined when the process does not exist. */
export type ProcessState = string | undefined;

export interface Facts {
  phase: Phase;
  leader: ProcessState;
  /** Milliseconds since the heartbeat file was last touched by this run of the program; undefined: none yet. */
  heartbeatAgeMs?: number;
  /** Present when a heartbeat is configured. */
  heartbeatMaxAgeMs?: number;
  /** Present when the program serves a port: whether it accepted a connection just now. */
  accepting?: boolean;
}

export interface Verdict {
  ok: boolean;
  /** Why it failed (or what it saw), for the response body and the log; no values of the environment. */
  reason: string;
}

/** Why the leader cannot do its work, or undefined when it can. */
function leaderProblem(state: ProcessState): string | undefined {
  if (state === undefined) return "the program's main process is gone";
  if (state === 'Z' || state === 'X') return "the program's main process is a zombie";
  if (state === 'T' || state === 't') return "the program's main process is stopped (SIGSTOP or traced)";
  return undefined;
}

export function liveness(facts: Facts): Verdict {
  switch (facts.phase) {
    case 'starting':
      return { ok: true, reason: 'starting' };
    case 'draining':
    case 'stopping':
      return { ok: true, reason: `${facts.phase}: the stop deadline applies` };
    case 'exited':
      return { ok: false, reason: 'the program exited' };
    case 'running':
  }
  const problem = leaderProblem(facts.leader);
  if (problem) return { ok: false, reason: problem };
  if (facts.heartbeatMaxAgeMs !== undefined) {
    if (facts.heartbeatAgeMs === undefined) return { ok: false, reason: 'no heartbeat since the program started' };
    if (facts.heartbeatAgeMs > facts.heartbeatMaxAgeMs) {
      return {
        ok: false,
        reason: `heartbeat is ${Math.round(facts.heartbeatAgeMs / 1000)} s old (at most ${facts.heartbeatMaxAgeMs / 1000} s)`,
      };
    }
  }
  return { ok: true, reason: 'running' };
}

export function readiness(facts: Facts): Verdict {
  if (facts.phase !== 'running') return { ok: false, reason: facts.phase };
  const problem = leaderProblem(facts.leader);
  if (problem) return { ok: false, reason: problem };
  if (facts.accepting === false) return { ok: false, reason: 'the program does not accept connections on its port yet' };
  return { ok: true, reason: 'running' };
}
