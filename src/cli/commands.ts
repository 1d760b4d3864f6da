// What the command line asked for, once the logger exists: validate the environment (every finding logged), then
// print the plan, confirm it, or run it. Returns the exit code.
import { shown, type Logger } from '../log.js';
import { EXIT } from '../exit-codes.js';
import { describeSettings } from '../config/common.js';
import { loadPlan } from '../plan/load.js';
import type { Plan } from '../supervise/plan.js';
import type { Args } from './args.js';
import { runPlan } from './run.js';
import { logAdvice } from './advice.js';

export async function runCommand(args: Args, log: Logger): Promise<number> {
  if (!args.ok) {
    log.error({ event: 'usage.invalid', problem: args.problem }, args.problem);
    return EXIT.USAGE;
  }
  const plan = validatedPlan(args.command, log);
  if (!plan) return EXIT.CONFIG;
  switch (args.mode) {
    case 'print':
      process.stdout.write(`${JSON.stringify({ role: plan.role, argv: plan.argv, settings: describeSettings(plan.settings) })}\n`);
      return EXIT.OK;
    case 'check':
      log.info({ event: 'config.valid', role: plan.role }, `configuration for ROLE=${plan.role} is valid`);
      return EXIT.OK;
    case 'run':
      return runPlan(plan, log);
    case 'help':
    case 'version':
      // answered by the entry point before any logger exists
      throw new Error(`--${args.mode} reached runCommand`);
  }
}

/** The plan, or undefined once every problem has been logged. Near misses and advice are logged either way. */
function validatedPlan(command: readonly string[] | undefined, log: Logger): Plan | undefined {
  const loaded = loadPlan(process.env, command);
  for (const { variable, intended } of loaded.nearMisses) {
    // The name only: the value of a variable we do not own may be a secret.
    log.warn(
      { event: 'config.near_miss', variable, did_you_mean: intended },
      `${variable} is not a variable the supervisor reads; did you mean ${intended}?`,
    );
  }
  if (!loaded.ok) {
    for (const { variable, value, expected } of loaded.problems) {
      const given = shown(value);
      log.error(
        { event: 'config.invalid', variable, value: given, expected },
        `${variable}=${JSON.stringify(given)}: expected ${expected}`,
      );
    }
    return undefined;
  }
  for (const advice of loaded.advice) logAdvice(log, advice);
  return loaded.plan;
}
