// One wording for config.advice: a valid setting that works against the program, named with what to use instead.
import { shown, type Logger } from '../log.js';
import type { Advice } from '../plan/findings.js';

export function logAdvice(log: Logger, { variable, value, advice }: Advice): void {
  log.warn(
    { event: 'config.advice', variable, value: shown(value), advice },
    `${variable}=${JSON.stringify(shown(value))} is valid, but use ${advice}`,
  );
}
