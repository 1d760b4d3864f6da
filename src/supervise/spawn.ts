// Starts the program: no shell, stdio inherited untouched, in a new session and process group of its own
// (so `tini -g` reaches only the supervisor, and the supervisor decides what the program receives).
import { execa } from 'execa';

export interface ChildEnd {
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** Set when the program never ran (exec failed after the PATH check, e.g. ENOEXEC). */
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
  const subprocess = execa(path, args, {
    stdio: 'inherit',
    detached: true, // setsid(): own session and process group, pgid = pid
    cleanup: false, // the supervisor kills the whole group itself, on every exit path
    reject: false,
    forceKillAfterDelay: false,
    buffer: false,
    stripFinalNewline: false,
  });
  const ended = subprocess.then(
    (result): ChildEnd => ({
      code: result.exitCode,
      signal: result.signal,
      ...(result.failed && result.exitCode === undefined && result.signal === undefined ? { spawnError: result.shortMessage } : {}),
    }),
  );
  // 'exit' is emitted synchronously when Node reaps the child; `ended` settles a few ticks later.
  let exited = false;
  subprocess.nodeChildProcess.once('exit', () => {
    exited = true;
  });
  return { pid: subprocess.pid, ended, hasExited: () => exited };
}
