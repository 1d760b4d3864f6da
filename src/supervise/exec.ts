// SUPERVISOR_MODE=exec: validate, log, then become the program (like start.sh's `exec`): zero resident
// overhead, but no deadline, no signal policy and no lifecycle log after this point. Refused for roles
// whose stop needs the supervisor's deadline and hard-stop step (plan/load.ts, the role's `exec.why`).
import type { Logger } from '../log.js';
import type { Plan } from './plan.js';

export function execProgram(plan: Plan, programPath: string, log: Logger): never {
  log.info(
    { event: 'supervisor.exec', argv: plan.argv, path: programPath },
    `replacing the supervisor with ${plan.argv[0]} (SUPERVISOR_MODE=exec): no deadline or lifecycle log from here on`,
  );
  // Handled signals reset to their default action on execve; signals Node ignores (SIGPIPE) stay ignored,
  // which is what Python sets up for itself anyway.
  process.execve!(programPath, plan.argv, process.env);
  throw new Error('process.execve returned');
}
