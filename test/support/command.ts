// Running external programs (podman, debootstrap, tar, umount, …): always an argv (never a shell string), bounded in
// time, with the output kept for the error message.
import { execa, type ResultPromise } from 'execa';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { collectSupervisorLines } from './log-lines.js';
import { mountsUnder } from './proc.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Resolve with a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(argv: readonly string[], result: RunResult, reason: string) {
    super(
      `${argv.join(' ')} ${reason} after ${result.ms} ms\n--- stdout (tail)\n${tail(result.stdout)}\n--- stderr (tail)\n${tail(result.stderr)}`,
    );
    this.result = result;
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Starts argv[0] with argv[1..] (execa: bounded in time, killed with the test process); `done` settles when it exits. */
export function startCommand(argv: readonly string[], options: CommandOptions = {}): { child: ResultPromise; done: Promise<RunResult> } {
  const timeoutMs = options.timeoutMs ?? 600_000;
  const child = execa(argv[0]!, argv.slice(1), {
    env: options.env ?? process.env,
    extendEnv: false,
    cwd: options.cwd,
    stdin: 'ignore',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    reject: false,
    stripFinalNewline: false,
  });
  const done = child.then((result) => {
    const outcome: RunResult = {
      code: result.exitCode ?? null,
      signal: result.signal ?? null,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      ms: Math.round(result.durationMs),
    };
    // podman run / podman logs carry the supervisor's lines from inside the containers.
    collectSupervisorLines(outcome.stdout);
    collectSupervisorLines(outcome.stderr);
    if (result.timedOut) throw new CommandError(argv, outcome, `timed out (${timeoutMs} ms)`);
    if (outcome.code === null && outcome.signal === null) throw new Error(`${argv[0]} could not be started: ${result.message}`);
    if (outcome.code !== 0 && !options.allowFailure) throw new CommandError(argv, outcome, `exited ${outcome.code ?? outcome.signal}`);
    return outcome;
  });
  return { child, done };
}

export function run(argv: readonly string[], options: CommandOptions = {}): Promise<RunResult> {
  return startCommand(argv, options).done;
}

/**
 * Absolute path of a program: PATH first, then the sbin/bin directories (debootstrap and umount live in
 * /usr/sbin and /usr/bin, which a minimal PATH may lack). Undefined when it is not installed.
 */
export function which(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Like which(), but throws naming what to install. */
export function requireProgram(program: string): string {
  const path = which(program);
  if (!path) throw new Error(`${program} is not installed: \`bash dev.sh setup\` installs it (dev.sh APT_PACKAGES)`);
  return path;
}

/** Lazily unmounts everything mounted at or below `dir` (what debootstrap leaves when it is interrupted). */
export async function unmountBelow(dir: string): Promise<void> {
  for (const mountPoint of mountsUnder(dir)) {
    await run([requireProgram('umount'), '-l', mountPoint], { allowFailure: true, timeoutMs: 30_000 });
  }
}
