import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * One JSON line per event on stderr, written synchronously: the last line before exit is never lost,
 * and each line is a single write(2), so a child's output never lands inside it.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      name: 'eveai-supervisor',
      level: (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** A value of one of the supervisor's own variables, shortened so one log line stays one atomic write. */
export function shown(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
}
