import { constants } from 'node:os';

// sysexits.h values where one fits, shell conventions for the spawn failures.
export const EXIT = {
  OK: 0,
  USAGE: 64, // EX_USAGE: unknown flag, `--` with nothing after it
  INTERNAL: 70, // EX_SOFTWARE: a bug in the supervisor; the group is killed first
  CONFIG: 78, // EX_CONFIG: invalid environment; nothing was started
  NOT_EXECUTABLE: 126, // as a shell reports it
  NOT_FOUND: 127, // as a shell reports it
} as const;

/** The supervisor's exit code for a child that ended: its own code, or 128+N when a signal killed it. */
export function exitCodeOfChild(code: number | undefined, signal: string | undefined): number {
  if (signal) return 128 + signalNumber(signal);
  return code ?? EXIT.INTERNAL;
}

export function signalNumber(signal: string): number {
  const number = (constants.signals as Record<string, number>)[signal];
  if (number === undefined) throw new Error(`unknown signal ${signal}`);
  return number;
}
