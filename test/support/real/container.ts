/**
 * The container topology without a container engine:
 *
 *   unshare --pid --fork --mount-proc          a new PID namespace with its own /proc
 *     setpriv --reuid=10001 --regid=10001 --clear-groups
 *       PID 1: the image's ENTRYPOINT (Dockerfile.base, tini-static --) for the supervisor runner; `tini -g --`,
 *       the migration plan's, for the start.sh runner (the old image as it was)
 *         node dist/supervisor.js               PID 2 (runner "supervisor")
 *         bash -lc test/baseline/start.sh       PID 2 (runner "start.sh", CMD of the migration plan)
 *
 * Signals are sent from the host side to the host pid of tini, as Kubernetes/Podman do. When tini
 * exits the kernel tears the namespace down, so SIGKILL to tini is also the cleanup that leaves nothing
 * behind. Safety nets when the test process itself dies: the outer setpriv gives unshare a parent-death
 * SIGKILL, and unshare --kill-child gives tini one (setpriv --pdeathsig keep re-arms it after the uid change).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { cleanUpAfterEach, cleanupRegistered, register } from '../cleanup.js';
import { collectSupervisorLines, parseSupervisorLines } from '../log-lines.js';
import { IMAGE_ENTRYPOINT, requireBuild, ROOT } from '../paths.js';
import { childrenOf, killAll, namespaceMembers, pidNamespace, type Proc, readProc, stillAlive } from '../proc.js';
import { eventually, settlesWithin, waitFor } from '../wait.js';
import { APP_GID, APP_UID, containerEnv, OLD_START_SH } from './env.js';
import { BOOKWORM, type VersionSet } from './versions.js';

export type Runner = 'supervisor' | 'start.sh';

export interface ContainerOptions {
  /** Shown in logs and file names. */
  name: string;
  runner: Runner;
  /** Role variables (ROLE, PORT, STOP_TIMEOUT, CELERY_BROKER_URL, ...), on top of the image environment. */
  env: Record<string, string>;
  /** Working directory (the image's WORKDIR); default the repository root. */
  cwd?: string;
  /** Whose tini, bash, python, gunicorn and celery run (test/support/real/versions.ts); default the host's (bookworm). */
  versions?: VersionSet;
}

export interface ExitInfo {
  /** Exit status as a shell reports it: the code, or 128+signal. */
  code: number;
  /** Milliseconds from the last signal sent with `signal()` to the exit (undefined: no signal was sent). */
  stopMs: number | undefined;
}

export interface LogEvent {
  event: string;
  [key: string]: unknown;
}

export const LOG_DIR = path.join(ROOT, '.tmp/real');
/** The migration plan's ENTRYPOINT, which the start.sh runner keeps: the old image as it was. */
const MIGRATION_PLAN_ENTRYPOINT = ['tini', '-g', '--'];

const SIGNAL_NUMBERS = os.constants.signals as Record<string, number>;

export class Container implements AsyncDisposable {
  output = '';
  stderr = '';
  tini!: Proc;
  ns!: string;
  readonly exited: Promise<ExitInfo>;
  private lastSignalAt: number | undefined;
  private pid1Killed = false;
  private exitInfo: ExitInfo | undefined;
  readonly logFile: string;

  private constructor(
    readonly options: ContainerOptions,
    readonly child: ChildProcess,
  ) {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    this.logFile = path.join(LOG_DIR, `${options.name.replace(/[^\w.-]+/g, '_')}.log`);
    fs.writeFileSync(this.logFile, '');
    const capture = (isErr: boolean) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output += text;
      if (isErr) this.stderr += text;
      fs.appendFileSync(this.logFile, text);
    };
    child.stdout!.on('data', capture(false));
    child.stderr!.on('data', capture(true));
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': every line the container wrote has been read by then.
      child.once('close', (code, signal) => {
        collectSupervisorLines(this.stderr);
        // tini turns a signal death of its child into 128+n itself, so unshare sees a signal death only when
        // tini itself got SIGKILL (our kill() or the "kubelet"); unshare then cannot re-raise SIGKILL on
        // itself and exits 1 ("sigprocmask unblock failed"). What an engine reports then is 137.
        const status = this.pid1Killed ? 128 + 9 : (code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0));
        this.exitInfo = { code: status, stopMs: this.lastSignalAt === undefined ? undefined : Date.now() - this.lastSignalAt };
        resolve(this.exitInfo);
      });
    });
  }

  static async start(options: ContainerOptions): Promise<Container> {
    const program = options.runner === 'supervisor' ? [process.execPath, requireBuild()] : ['bash', '-lc', OLD_START_SH];
    const init = options.runner === 'supervisor' ? IMAGE_ENTRYPOINT : MIGRATION_PLAN_ENTRYPOINT;
    const versions = options.versions ?? BOOKWORM;
    const cwd = options.cwd ?? ROOT;
    const topology = versions.wrap(
      [
        'unshare',
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child=SIGKILL',
        '--',
        'setpriv',
        `--reuid=${APP_UID}`,
        `--regid=${APP_GID}`,
        '--clear-groups',
        '--pdeathsig',
        'keep',
        '--',
        ...init,
        ...program,
      ],
      cwd,
    );
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', ...topology], {
      cwd,
      env: containerEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const container = register(new Container(options, child));
    try {
      container.tini = await waitFor(
        `${options.name}: tini as PID 1`,
        () => {
          if (container.exitInfo)
            throw new Error(`${options.name}: exited with ${container.exitInfo.code} before tini ran:\n${container.output}`);
          return childrenOf(child.pid!)
            .map(readProc)
            .find((p) => p?.comm === path.basename(init[0]!) && p.nsPid === 1);
        },
        10_000,
        20,
      );
      container.ns = pidNamespace(container.tini.pid)!;
      createdNamespaces.set(container.ns, container.tini);
    } catch (error) {
      await container.kill();
      throw error;
    }
    return container;
  }

  /** Every process in the container's PID namespace (tini included). */
  members(): Proc[] {
    return namespaceMembers(this.ns);
  }

  /** The process with this pid inside the namespace (2 = the supervisor or start.sh's program). */
  nsProc(nsPid: number): Proc | undefined {
    return this.members().find((p) => p.nsPid === nsPid);
  }

  /** The supervised program's main process: the child of PID 2 (supervisor runs), or PID 2 itself (start.sh runs). */
  leader(): Proc | undefined {
    const two = this.nsProc(2);
    if (!two) return undefined;
    if (this.options.runner === 'start.sh') return two;
    return this.members().find((p) => p.ppid === two.pid);
  }

  /** Sends `signal` from the host to PID 1 (default) or another namespace pid, as the container engine does. */
  signal(signal: NodeJS.Signals, nsPid = 1): void {
    const target = nsPid === 1 ? this.tini : this.nsProc(nsPid);
    if (!target) throw new Error(`${this.options.name}: no PID ${nsPid} in the namespace`);
    this.lastSignalAt = Date.now();
    process.kill(target.pid, signal);
  }

  /** Pino JSON lines the supervisor wrote (on stderr, mixed with the program's own lines). */
  events(): LogEvent[] {
    return parseSupervisorLines<LogEvent>(this.stderr);
  }

  /** Resolves once `pattern` matched `count` times in the combined output. */
  async waitOutput(pattern: RegExp, timeoutMs: number, count = 1): Promise<void> {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    await waitFor(
      `${this.options.name}: ${count}x ${pattern} in the output (log: ${this.logFile})`,
      () => {
        if ((this.output.match(global)?.length ?? 0) >= count) return true;
        if (this.exitInfo)
          throw new Error(
            `${this.options.name}: exited with ${this.exitInfo.code} while waiting for ${pattern}; log: ${this.logFile}\n${this.tail()}`,
          );
        return false;
      },
      timeoutMs,
    );
  }

  /** Waits for the container to end; on timeout it is killed and the test fails (never hangs). */
  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    if (await settlesWithin(this.exited, timeoutMs)) return this.exited;
    await this.kill();
    throw new Error(
      `${this.options.name}: still running ${timeoutMs} ms after the stop signal; killed. Log: ${this.logFile}\n${this.tail()}`,
    );
  }

  tail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** SIGKILL to PID 1 as the kubelet does at the end of terminationGracePeriodSeconds: the namespace goes with it. */
  killPid1(): void {
    if (this.exitInfo || !this.tini) return;
    this.pid1Killed = true;
    killAll([this.tini.pid]);
  }

  /** Cleanup: SIGKILL to PID 1 (the kernel kills everything in the namespace) and to unshare, then reap. */
  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.killPid1();
    // unshare reaps tini and exits by itself; SIGKILL it only if it does not (it would leave tini a zombie).
    if (await settlesWithin(this.exited, 3000)) return;
    killAll([this.child.pid!]);
    await settlesWithin(this.exited, 5000);
  }

  /** The toolkit's clean-up (test/support/cleanup.ts): nothing survives a test, passed or failed. */
  async cleanup(): Promise<number[]> {
    await this.kill();
    return [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}

/**
 * Every PID namespace this test file created, with its PID 1: the final check looks for leftovers in each. A
 * namespace lives exactly as long as its PID 1 (the kernel kills the rest when it exits), and the kernel reuses a
 * dead namespace's number for the next one anybody creates: a namespace whose PID 1 is gone is not ours any more.
 */
const createdNamespaces = new Map<string, Proc>();

/**
 * For the files that start containers (and redis-servers): nothing survives a test, passed or failed. After each
 * test the toolkit kills every container still running (SIGKILL to its PID 1 takes the whole namespace with it) and
 * stops every redis-server by pid; after the file, no process may be left in any namespace the file created.
 */
export function useContainerCleanup(): void {
  cleanUpAfterEach();
  afterAll(async () => {
    await cleanupRegistered();
    // Processes the kernel is still tearing down may show for a moment; give them a few seconds.
    const members = () =>
      [...createdNamespaces]
        .filter(([, pid1]) => stillAlive(pid1))
        .flatMap(([ns]) => namespaceMembers(ns))
        .filter((p) => p.state !== 'Z');
    await eventually(() => members().length === 0, 3000, 100);
    expect(
      members().map((p) => `${p.pid} ${p.cmdline}`),
      'processes left in the test namespaces',
    ).toEqual([]);
  }, 20_000);
}
