/**
 * The version sets the real-process suite runs on: a two-row compatibility matrix.
 *
 *   bookworm  the host's own Debian packages (gunicorn 20.1, celery 5.2.6, redis 7), run directly.
 *   trixie    Debian trixie's packages, which carry almost exactly the image's pins (gunicorn 23.0.0,
 *             celery 5.5.2 / kombu 5.5.3 / billiard 4.2.1, gevent 24.11.1, flask 3.1.1, python 3.13, redis 8),
 *             in a root filesystem made with debootstrap (rootfs.ts). Every program of a row —
 *             tini, bash, python, gunicorn, celery, redis-server, the task client — runs inside it; Node and
 *             dist/ are the checkout's own, visible at the same path.
 *
 * A version set only changes how a command is started (`wrap`): the topology, the uid and the assertions stay
 * the same, so one scenario body covers both rows.
 */
import path from 'node:path';
import { execaSync } from 'execa';
import { ROOT } from '../paths.js';
import { hostEnv } from './env.js';
import { ensureRootfs, TRIXIE_RECIPE } from './rootfs.js';

export interface VersionSet {
  /** Debian release name: shown in test names, log file names and the report. */
  readonly name: string;
  /** Makes sure the set can run (builds the root filesystem on first use); idempotent. */
  prepare(): Promise<void>;
  /** The argv that runs `argv` with this set's programs, in `workdir` (absolute; default the checkout). */
  wrap(argv: readonly string[], workdir?: string): string[];
  /** Where a program of this set may write scratch files that vanish with it. */
  readonly scratchDir: string | undefined;
}

export const BOOKWORM: VersionSet = {
  name: 'bookworm',
  prepare: async () => undefined,
  wrap: (argv) => [...argv],
  scratchDir: undefined,
};

const ENTER_ROOTFS = path.join(ROOT, 'test/support/real/enter-rootfs.sh');

let trixieRoot: string | undefined;

export const TRIXIE: VersionSet = {
  name: 'trixie',
  async prepare() {
    trixieRoot ??= await ensureRootfs(TRIXIE_RECIPE);
  },
  wrap(argv, workdir = ROOT) {
    if (!trixieRoot) throw new Error('the trixie root filesystem is not prepared: call TRIXIE.prepare() in beforeAll');
    return ['unshare', '--mount', '--propagation', 'private', '--', 'bash', ENTER_ROOTFS, trixieRoot, ROOT, workdir, '--', ...argv];
  },
  // enter-rootfs.sh mounts a fresh tmpfs there for each command.
  scratchDir: '/tmp',
};

/** Every row of the matrix, host first. */
export const VERSION_SETS: readonly VersionSet[] = [BOOKWORM, TRIXIE];

/** Splits `argv` into the program and its arguments for child_process.spawn/execFile. */
export function wrapped(set: VersionSet, argv: readonly string[], workdir?: string): [string, string[]] {
  const full = set.wrap(argv, workdir);
  return [full[0]!, full.slice(1)];
}

/**
 * Runs `argv` with this set's programs on the host side (helper scripts, version queries) and returns its stdout;
 * throws with its stderr when it fails. `env` defaults to hostEnv().
 */
export function outputOf(
  set: VersionSet,
  argv: readonly string[],
  options: { env?: Record<string, string>; workdir?: string } = {},
): string {
  const [program, args] = wrapped(set, argv, options.workdir);
  return execaSync(program, args, { env: options.env ?? hostEnv(), extendEnv: false, stripFinalNewline: false }).stdout;
}
