// Running external programs from the image tests: always an argv (never a shell string), bounded in time,
// with the output kept for the error message.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { collectSupervisorLines } from './log-lines.js';

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
    super(`${argv.join(' ')} ${reason} after ${result.ms} ms\n--- stdout (tail)\n${tail(result.stdout)}\n--- stderr (tail)\n${tail(result.stderr)}`);
    this.result = result;
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Starts argv[0] with argv[1..]; the promise settles when it exits. */
export function startCommand(argv: readonly string[], options: CommandOptions = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const started = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 600_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${argv[0]} could not be started: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // podman run / podman logs carry the supervisor's lines from inside the containers.
      collectSupervisorLines(stdout);
      collectSupervisorLines(stderr);
      const result = { code, signal, stdout, stderr, ms: Date.now() - started };
      if (timedOut) reject(new CommandError(argv, result, `timed out (${timeoutMs} ms)`));
      else if (code !== 0 && !options.allowFailure) reject(new CommandError(argv, result, `exited ${code ?? signal}`));
      else resolve(result);
    });
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
