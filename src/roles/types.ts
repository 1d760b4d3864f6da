import type * as z from 'zod/mini';
import type { CommonVariable } from '../config/common.js';
import type { Plan, Settings, SignalPolicy } from '../supervise/plan.js';

/** A role is data: its variables, the command it runs and what each signal means to that command. No I/O. */
export interface Role<Schema extends z.ZodMiniObject = z.ZodMiniObject> {
  name: string;
  summary: string;
  /** The role's own variables (the common ones live in config/common.ts). */
  schema: Schema;
  /** Defaults of common variables that differ for this role (its stop timing); an explicit value still wins. */
  commonDefaults?: Partial<Record<CommonVariable, string>>;
  /** argv[0] is looked up on PATH; never run through a shell. */
  argv(vars: z.output<Schema>, common: Settings): string[];
  policy: SignalPolicy;
  /** The TCP port the program serves on, if it serves one: the readiness probe checks it accepts connections. */
  listenPort?(vars: z.output<Schema>): number;
  /** SUPERVISOR_MODE=exec replaces the supervisor with the program; a string says why that is refused. */
  exec: Plan['exec'];
}

/** Keeps each role file's `argv` typed by its own schema while the registry holds them side by side. */
export function defineRole<Schema extends z.ZodMiniObject>(role: Role<Schema>): Role {
  return role;
}
