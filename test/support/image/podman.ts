// A private rootful Podman for one test run: its own containers.conf, storage.conf, storage, run and temp
// directories under one temp directory, so nothing in /etc or /var/lib/containers is read or touched and
// one `cleanup()` removes every container, volume, image and mount the run made.
//
// Facts of this machine kind (Debian bookworm VM, podman 4.3) that the configuration encodes:
// - crun refuses the host's mixed cgroup layout ("cgroups in hybrid mode not supported"): runtime = runc,
//   cgroup_manager = cgroupfs (no systemd in the VM).
// - no CAP_SYS_RESOURCE: podman's default rlimits fail ("error setting rlimit"), so default_ulimits stay
//   within the current hard limits (read from /proc/self/limits; nproc at most 32768).
// - events go to a file (no journald).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { requireProgram, run, startCommand, which, type CommandOptions, type RunResult } from '../command.js';
import { hardLimit, mountsUnder, processesMentioning } from '../proc.js';
import { waitFor } from '../wait.js';
import { ROOT } from '../paths.js';
import { parseSupervisorLines } from '../log-lines.js';
import { importStandins, type StandinImages, type Timings } from './standins.js';

/** Programs the image tests need; dev.sh's APT_PACKAGES installs them. conmon is a dependency of podman. */
export const REQUIRED_PROGRAMS = ['podman', 'runc', 'debootstrap', 'tar', 'umount'];

/** Throws a message that says what to install when a required program is missing, or when not root. */
export function assertHostCanRunPodman(): void {
  const missing = REQUIRED_PROGRAMS.filter((p) => !which(p));
  if (missing.length > 0) {
    throw new Error(
      `The podman e2e needs ${missing.join(', ')}; install them with \`bash dev.sh setup\` ` +
        '(APT_PACKAGES: podman runc debootstrap fuse-overlayfs uidmap). It does not skip: CI runs it.',
    );
  }
  if (process.getuid?.() !== 0) throw new Error('The podman e2e runs rootful podman and debootstrap: run it as root (CI does).');
}

export class PodmanSandbox {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  private constructor(dir: string, env: NodeJS.ProcessEnv) {
    this.dir = dir;
    this.env = env;
  }

  /**
   * `hosts`: extra "ip name" lines for every container's /etc/hosts (base_hosts_file), e.g. the compose
   * service name of a container whose network namespace the others share.
   */
  static create(hosts: Record<string, string> = {}): PodmanSandbox {
    assertHostCanRunPodman();
    const dir = mkdtempSync(join(tmpdir(), 'eveai-podman-'));
    for (const sub of ['graph', 'runroot', 'tmp', 'volumes', 'networks']) mkdirSync(join(dir, sub));
    const nofile = Math.min(hardLimit('Max open files', 1024), 1_048_576);
    const nproc = Math.min(hardLimit('Max processes', 32768), 32768);
    writeFileSync(
      join(dir, 'hosts'),
      ['127.0.0.1 localhost', '::1 localhost', ...Object.entries(hosts).map(([name, ip]) => `${ip} ${name}`)].join('\n') + '\n',
    );
    writeFileSync(
      join(dir, 'containers.conf'),
      [
        '[containers]',
        `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
        `base_hosts_file = "${join(dir, 'hosts')}"`,
        '[engine]',
        'runtime = "runc"',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${join(dir, 'events.log')}"`,
        `tmp_dir = "${join(dir, 'tmp')}"`,
        `volume_path = "${join(dir, 'volumes')}"`,
        '[network]',
        `network_config_dir = "${join(dir, 'networks')}"`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'storage.conf'),
      ['[storage]', 'driver = "overlay"', `graphroot = "${join(dir, 'graph')}"`, `runroot = "${join(dir, 'runroot')}"`, ''].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONTAINERS_CONF: join(dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      // registries.conf and policy.json stay the system's: no registry is contacted (only localhost/ images).
      TMPDIR: join(dir, 'tmp'),
    };
    return new PodmanSandbox(dir, env);
  }

  podman(args: readonly string[], options: CommandOptions = {}): Promise<RunResult> {
    return run([requireProgram('podman'), ...args], { ...options, env: this.env });
  }

  /** A container's output, stdout and stderr (podman logs keeps them apart). */
  async logs(container: string): Promise<string> {
    const result = await this.podman(['logs', container]);
    return result.stdout + result.stderr;
  }

  /** The supervisor's JSON lines of a container's output. */
  async supervisorLog<T>(container: string): Promise<T[]> {
    return parseSupervisorLines<T>(await this.logs(container));
  }

  async exitCode(container: string): Promise<number> {
    return Number((await this.podman(['inspect', '--format', '{{.State.ExitCode}}', container])).stdout.trim());
  }

  /** A podman command that runs in the background (e.g. a request in flight while a container stops). */
  podmanStart(args: readonly string[], options: CommandOptions = {}) {
    return startCommand([requireProgram('podman'), ...args], { ...options, env: this.env });
  }

  /**
   * Removes every container, volume and image of this sandbox, unmounts whatever is still mounted below
   * it and deletes the directory. Returns what could not be removed (empty when all is gone).
   */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const quiet = { allowFailure: true, timeoutMs: 120_000 };
    // Containers one by one, a few passes: one whose network namespace others joined can only go after them.
    for (let pass = 0; pass < 4; pass++) {
      const listed = await this.podman(['ps', '--all', '--quiet'], quiet).catch(() => undefined);
      const ids = (listed?.stdout ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      if (ids.length === 0) break;
      for (const id of ids) await this.podman(['rm', '--force', '--time', '0', id], quiet).catch(() => undefined);
      if (pass === 3) problems.push(`containers left: ${ids.join(', ')}`);
    }
    for (const args of [
      ['volume', 'rm', '--all', '--force'],
      ['rmi', '--all', '--force'],
    ]) {
      const result = await this.podman(args, quiet).catch((e: Error) => ({ code: -1, stderr: e.message }) as RunResult);
      if (result.code !== 0) problems.push(`podman ${args.join(' ')}: ${result.stderr.trim()}`);
    }
    for (const mountPoint of mountsUnder(this.dir)) {
      const result = await run([requireProgram('umount'), mountPoint], quiet).catch(() => undefined);
      if (result?.code !== 0) await run([requireProgram('umount'), '-l', mountPoint], quiet).catch(() => undefined);
    }
    const left = mountsUnder(this.dir);
    if (left.length > 0) problems.push(`still mounted: ${left.join(', ')}`);
    const processes = processesMentioning(this.dir);
    if (processes.length > 0) problems.push(`processes still running for this sandbox: ${processes.join(', ')}`);
    if (left.length === 0) rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}

/** Polls a podman probe (a command that fails while a container starts counts as "not yet"); see waitFor. */
export function waitForPodman<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  return waitFor(what, probe, timeoutMs, everyMs, { retryErrors: true });
}

/** Times each step into `timings` (printed with the file's durations), whether it succeeds or fails. */
export function stepTimer(timings: Timings): <T>(step: string, fn: () => Promise<T>) => Promise<T> {
  return async (step, fn) => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      timings[step] = Date.now() - started;
    }
  };
}

/**
 * For afterAll: removes everything the sandbox made, prints the file's durations, and fails when anything (a
 * container, a mount, a process) was left behind.
 */
export async function cleanUpSandbox(sandbox: PodmanSandbox | undefined, timings: Timings, title: string, started: number): Promise<void> {
  const timed = stepTimer(timings);
  const problems = sandbox ? await timed('cleanup (containers, volumes, images, storage)', () => sandbox.cleanup()) : [];
  timings['whole file'] = Date.now() - started;
  console.log(
    [`${title} durations:`, ...Object.entries(timings).map(([step, ms]) => `  ${(ms / 1000).toFixed(1).padStart(7)} s  ${step}`)].join(
      '\n',
    ),
  );
  if (sandbox) {
    expect(problems, 'cleanup left something behind').toEqual([]);
    expect(mountsUnder(sandbox.dir)).toEqual([]);
    expect(processesMentioning(sandbox.dir)).toEqual([]);
  }
}

export type ServiceDir = 'eveai_app' | 'eveai_api' | 'eveai_workers';

/**
 * Imports the stand-ins, builds the real Dockerfile.base from them (--network host: its RUN steps reach Debian's
 * archive for tini and the npm registry for npm ci like the host does; --pull=never: only the local stand-ins, never
 * a registry), then each service's Dockerfile FROM it (no network). Returns the stand-in images.
 */
export async function buildImages(
  sandbox: PodmanSandbox,
  timings: Timings,
  images: { base: string } & Partial<Record<ServiceDir, string>>,
): Promise<StandinImages> {
  const timed = stepTimer(timings);
  const standins = await timed('stand-ins ready (import; debootstrap on a cold cache is listed separately)', () =>
    importStandins(sandbox, timings),
  );
  const buildArgs = [
    '--build-arg',
    `PYTHON_IMAGE=${standins.python}`,
    '--build-arg',
    `NODE_IMAGE=${standins.node}`,
    '--build-arg',
    'REQUIREMENTS=test/image/standin/requirements.txt',
  ];
  await timed('podman build Dockerfile.base', () =>
    sandbox.podman(['build', '--pull=never', '--network', 'host', '-f', 'Dockerfile.base', ...buildArgs, '-t', images.base, ROOT], {
      timeoutMs: 900_000,
      cwd: ROOT,
    }),
  );
  for (const dir of (['eveai_app', 'eveai_api', 'eveai_workers'] as const).filter((d) => images[d] !== undefined)) {
    await timed(`podman build docker/${dir}/Dockerfile`, () =>
      sandbox.podman(
        [
          'build',
          '--pull=never',
          '--network',
          'none',
          '-f',
          `docker/${dir}/Dockerfile`,
          '--build-arg',
          `BASE_IMAGE=${images.base}`,
          '-t',
          images[dir]!,
          ROOT,
        ],
        { timeoutMs: 300_000, cwd: ROOT },
      ),
    );
  }
  return standins;
}
