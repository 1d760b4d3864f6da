import { fstatSync, writeSync } from 'node:fs';
import pino from 'pino';
import { prettyLine } from './log-pretty.js';
import { isoTime } from './log-time.js';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * One JSON line per event on stderr (or one readable line: `pretty`), written synchronously: the last line before
 * exit is never lost, and each line is a single write(2), so a child's output never lands inside it.
 */
export function createLogger(level: string, format: string = 'auto', destination: { write(line: string): unknown } = stderrSync): Logger {
  const pretty = format === 'pretty' || (format !== 'json' && stderrIsTerminal());
  // Colours only on a terminal, unless NO_COLOR (no-color.org) asks otherwise; never in a pipe or file.
  const colours = pretty && !process.env.NO_COLOR && stderrIsTerminal();
  return pino(
    {
      name: 'eveai-supervisor',
      level: (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info',
      timestamp: isoTime, // pino.stdTimeFunctions.isoTime's text, without the Date object it creates per line
      formatters: { level: (label) => ({ level: label }) },
    },
    pretty ? { write: (line: string) => destination.write(prettyLine(line, colours)) } : destination,
  );
}

/**
 * Whether fd 2 is a terminal. Only a character device can be one: a pipe or a file (what a container runtime or a
 * log collector gives) is told apart with one fstat(2) through node:fs, which is loaded anyway, so the JSON path
 * loads no module (node:tty) it did not load before.
 */
function stderrIsTerminal(): boolean {
  return (terminal ??= isTerminal(2));
}
let terminal: boolean | undefined;

function isTerminal(fd: number): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false; // /dev/null is one too: ask the terminal driver
    return process.getBuiltinModule('node:tty').isatty(fd);
  } catch {
    return false; // not a descriptor we can ask about: JSON, the format every reader accepts
  }
}

/** How long to wait before retrying a write to a non-blocking stderr that is full (sonic-boom waits the same). */
const BUSY_WRITE_MS = 100;
let sleepCell: Int32Array | undefined;
/** Set once stderr's reader is gone (EPIPE): like pino's own destination, logging stops for good. */
let brokenPipe = false;

/**
 * pino's destination: a line goes to fd 2 with write(2) before `write` returns, as with
 * `pino.destination({ dest: 2, sync: true })`, without sonic-boom's buffering machinery or the modules it loads at
 * start-up (node:assert, which creates process.stderr's stream). A partial write continues with the rest;
 * EAGAIN/EBUSY (stderr left non-blocking by whoever opened it) waits and retries, as sonic-boom does.
 * A line that cannot be written is dropped, never thrown: EPIPE stops logging (pino does the same), and any other
 * error (EIO from a vanished terminal, ENOSPC, EBADF) loses that line only. Supervision must never depend on
 * whether anyone reads the log.
 */
const stderrSync = {
  write(line: string): boolean {
    if (brokenPipe) return true;
    const bytes = Buffer.from(line, 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(2, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') {
          Atomics.wait((sleepCell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, BUSY_WRITE_MS);
          continue;
        }
        if (code === 'EPIPE') brokenPipe = true;
        return true;
      }
    }
    return true;
  },
};

/** A value of one of the supervisor's own variables, shortened so one log line stays one atomic write. */
export function shown(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
}
