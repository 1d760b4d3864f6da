// What supervise/ runs: a program, its stop timing and what each signal means to it. Built by plan/ from the
// environment and the roles; defined here, at the layer that consumes it, so every import points down.
import type { HandledSignal } from '../signals/trap.js';
import type { LogFormat } from '../log.js';

/** Who receives a signal: the program's main process only, or every process of its process group. */
export type Target = 'leader' | 'group';

/** What a signal received by the supervisor means for this program. `why` is shown in --help and the README. */
export type SignalRule =
  /** A stop request: after the drain delay, `send` goes to the leader, once, however many requests follow. */
  | { action: 'stop'; send: NodeJS.Signals; why: string }
  /** A stop request that skips drain and graceful wait: the role's hard-stop step runs now. */
  | { action: 'stop-now'; why: string }
  | { action: 'forward'; target: Target; why: string }
  | { action: 'drop'; why: string };

export interface HardStop {
  signal: NodeJS.Signals;
  target: Target;
  why: string;
  /** The least ESCALATION_GRACE the step needs to finish; a shorter one is valid but warned about. */
  needsGrace?: { ms: number; why: string };
}

export interface SignalPolicy {
  rules: Record<HandledSignal, SignalRule>;
  /** Sent when STOP_TIMEOUT is over; ESCALATION_GRACE later the whole group gets SIGKILL. None: SIGKILL at once. */
  hardStop?: HardStop;
  /**
   * The stop requests that wait DRAIN_DELAY before the stop signal (a program behind a load balancer keeps serving
   * while the balancers take it out); none for a program nobody routes to.
   */
  drains: readonly HandledSignal[];
  /**
   * Take the hard-stop step as soon as the graceful stop is stuck in a closed wait (supervise/closed-wait.ts: the
   * leader waits for children that wait on pipes only the waiting processes can write) instead of after
   * STOP_TIMEOUT. `why` names what that shape means for this program; it is logged with shutdown.stuck.
   */
  hardStopWhenStuck?: { why: string };
}

/** The settings every role shares, in milliseconds where they are durations. */
export interface Settings {
  stopTimeoutMs: number;
  drainDelayMs: number;
  escalationGraceMs: number;
  logLevel: string;
  logFormat: LogFormat;
  mode: 'supervise' | 'exec';
  /** undefined: no probe endpoint is started (and none of its code is loaded). */
  probePort?: number;
  heartbeatFile?: string;
  heartbeatMaxAgeMs: number;
}

export interface Plan {
  role: string;
  /** argv[0] is the program, looked up on PATH. */
  argv: string[];
  policy: SignalPolicy;
  settings: Settings;
  exec: { allowed: true } | { allowed: false; why: string };
  /** The port the program serves on (web), checked by the readiness probe. */
  listenPort?: number;
}
