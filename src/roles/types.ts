import type { z } from 'zod';
import type { HandledSignal } from '../signals/trap.js';
import type { CommonSettings } from '../config/common.js';

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
  /** Whether DRAIN_DELAY applies (programs behind a load balancer). */
  drains: boolean;
}

/** A role is data: its variables, the command it runs and what each signal means to that command. No I/O. */
export interface Role<Schema extends z.ZodObject = z.ZodObject> {
  name: string;
  summary: string;
  /** The role's own variables (the common ones live in config/common.ts). */
  schema: Schema;
  /** argv[0] is looked up on PATH; never run through a shell. */
  argv(vars: z.output<Schema>, common: CommonSettings): string[];
  policy: SignalPolicy;
  /** The TCP port the program serves on, if it serves one: the readiness probe checks it accepts connections. */
  listenPort?(vars: z.output<Schema>): number;
  /** SUPERVISOR_MODE=exec replaces the supervisor with the program; a string says why that is refused. */
  exec: { allowed: true } | { allowed: false; why: string };
}

/** Keeps each role file's `argv` typed by its own schema while the registry holds them side by side. */
export function defineRole<Schema extends z.ZodObject>(role: Role<Schema>): Role {
  return role as unknown as Role;
}
