// Starts the program: no shell, stdio inherited untouched, in a new session and process group of its own
// (so nothing sent to the supervisor's group, `tini -g` or a terminal's Ctrl-C, reaches the program: the supervisor
// decides what it receives).
//
// node:child_process directly rather than execa: with every stream inherited and nothing buffered, execa added
// nothing here but its cost on the path to spawn (its module graph creates process.stdin/stdout/stderr streams
// and loads node:v8, node:stream… at import, and its spawn wrapper runs ~5 ms of option handling):
// about a third of the supervisor's start-up and ~8 MB of its resident memory (bench/RESULTS.md).
import { spawn } from 'node:child_process';

export interface ChildEnd {
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** Set when the program never ran (exec failed after the PATH check, e.g. EACCES on a race). */
  spawnError?: string;
}

export interface Child {
  /** undefined when the program could not be started at all; `ended` then carries `spawnError`. */
  pid: number | undefined;
  ended: Promise<ChildEnd>;
  /** True from the moment Node reaped it, before `ended` settles: never signal a reaped pid. */
  hasExited(): boolean;
}

export function spawnChild(path: string, args: readonly string[]): Child {
  let exited = false;
  let subprocess;
  try {
    subprocess = spawn(path, args, {
      stdio: 'inherit',
      detached: true, // setsid(): own session and process group, pgid = pid
      // The supervisor kills the whole group itself, on every exit path; nothing is buffered or piped.
    });
  } catch (error) {
    // Errors libuv does not report through 'error' (e.g. E2BIG, ENAMETOOLONG) are thrown synchronously.
    return { pid: undefined, ended: Promise.resolve(failed(path, args, error)), hasExited: () => true };
  }
  const child = subprocess;
  const ended = new Promise<ChildEnd>((resolve) => {
    // 'exit' is emitted synchronously when Node reaps the child; `ended` settles a microtask later.
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code: code ?? undefined, signal: signal ?? undefined });
    });
    // Only ever a spawn failure here: the supervisor signals with process.kill, never child.kill.
    child.once('error', (error) => {
      if (child.pid === undefined) {
        exited = true;
        resolve(failed(path, args, error));
      }
    });
  });
  return { pid: child.pid, ended, hasExited: () => exited };
}

/** Same wording as execa's `shortMessage`, which this log field carried before; a huge argv is shortened. */
function failed(path: string, args: readonly string[], error: unknown): ChildEnd {
  const err = error as NodeJS.ErrnoException;
  const command = [path, ...args].join(' ');
  const shown = command.length > 300 ? `${command.slice(0, 300)}…(${command.length} chars)` : command;
  return {
    code: undefined,
    signal: undefined,
    spawnError: `Command failed with ${err.code ?? 'an error'}: ${shown}\n${err.message}`,
  };
}
