#!/usr/bin/env node
// `npm run bench`: the supervisor against tini, dumb-init, the old start.sh and bare Node, side by side in one run,
// interleaved, written to bench/RESULTS.md. Ratios in the same run are the headline; absolute numbers are context.
//
//   node bench/run.mjs [--runs N] [--signals N] [--idle SECONDS] [--knob-runs N] [--no-knobs] [--quick]
//                      [--baseline REV | --no-baseline] [--compare REV] [--nice N] [--supervisor PATH] [--out FILE]
//   defaults: --runs 300 --signals 1000 --idle 60 --knob-runs 100 (about 5 minutes on 2 cores);
//   --quick: --runs 30 --signals 100 --idle 5 --knob-runs 15 (under a minute, for trying things out)
//   --compare REV: two more knob rows, the supervisor built from REV's src/ with the same build.mjs options as now,
//   so a change's cost is a ratio within one run (e.g. --compare main).
//   --nice N: the harness, and so every row, runs at niceness N (default -10 as root, else 0), so other load on a
//   shared machine does not dominate the tails; every row alike.
//
// What is measured (see bench/README.md for the method):
//   1. start-up: hrtime just before spawn(wrapper) -> the child's first instruction (it prints CLOCK_MONOTONIC)
//   2. RSS / PSS / USS of the wrapper process while the child idles (/proc/PID/smaps_rollup)
//   3. CPU of the wrapper (all threads) while the child idles for --idle seconds (/proc/PID/stat, schedstat)
//   4. signal forwarding: kill(wrapper, SIG) -> the child's handler, for TERM (stop; once per run by design)
//      and HUP/USR1 (--signals each, in long-lived wrappers)
//   5. stop overhead: the child's last instruction before _exit -> the harness sees the wrapper exit
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, setPriority, tmpdir, totalmem, release } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SUPERVISOR_NODE_FLAGS, buildBundle } from '../build.mjs';
import { unpackRevision } from './revision.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const args = parseArgs(process.argv.slice(2));
const NODE = process.execPath;
const SUPERVISOR = resolve(args.supervisor ?? join(ROOT, 'dist', 'supervisor.js'));

// ---------------------------------------------------------------- set-up: the child, the fake programs, the start.sh
const work = mkdtempSync(join(tmpdir(), 'eveai-bench-'));
const live = new Set(); // every pid we started, killed on any exit path
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => (cleanup(), process.exit(130)));

const probe = buildProbe();
const bin = join(work, 'bin'); // `gunicorn` on PATH is the probe: start.sh and the supervisor's web role exec it
mkdirSync(bin, { recursive: true });
const probeCommand = probe.argv;
if (probe.kind === 'c') symlinkSync(probe.argv[0], join(bin, 'gunicorn'));
else (writeFileSync(join(bin, 'gunicorn'), `#!/bin/sh\nexec ${probe.argv.join(' ')}\n`), chmodSync(join(bin, 'gunicorn'), 0o755));
const startSh = join(work, 'start.sh');
cpSync(join(ROOT, 'test', 'baseline', 'start.sh'), startSh); // the plan's script verbatim, shared with test/real
chmodSync(startSh, 0o755);
const compileCache = join(work, 'node-compile-cache');
const BASE_ENV = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: work, LANG: 'C.UTF-8' };

// A minimal Node supervisor: spawn the child in its own group, forward signals, exit with its code. The floor for
// any supervisor written in Node (what `node -e ''` costs, plus child_process and a spawn). The handlers go in
// before the spawn, as the supervisor's do: as PID 1 of a namespace a TERM that arrives before any handler is
// dropped by the kernel, and the run would wait for an exit that never comes.
const BARE_NODE = `let c;for(const s of ['SIGTERM','SIGINT','SIGHUP','SIGUSR1'])process.on(s,()=>c.kill(s));
c=require('node:child_process').spawn(${JSON.stringify(probeCommand[0])},${JSON.stringify(probeCommand.slice(1))},{stdio:'inherit',detached:true});
c.on('exit',(code,sig)=>process.exit(sig?128:code));`;

// ---------------------------------------------------------------- the rows
/** @typedef {{ name: string, argv: string[], env?: Record<string,string>, kind: 'direct'|'wrapper'|'exec'|'lifetime'|'idle-node', ready?: RegExp, note?: string }} Row */
const flagsFor = (flags) => [NODE, ...flags, SUPERVISOR];
// DRAIN_DELAY=0 whatever the web role's default: TERM latency is the time to pass the stop signal on, not a drain.
const SUPERVISOR_ENV = { ROLE: 'web', DRAIN_DELAY: '0' };
const SHIPPED = { argv: flagsFor(SUPERVISOR_NODE_FLAGS), env: { NODE_COMPILE_CACHE: compileCache, ...SUPERVISOR_ENV } };
// Node keys its compile cache by Node version, V8 flags and uid, so rows with different flags never share entries.
/** @type {Row[]} */
const ROWS = [
  { name: 'child directly', argv: probeCommand, kind: 'direct' },
  { name: 'tini --', argv: ['tini', '--', ...probeCommand], kind: 'wrapper' },
  { name: 'dumb-init', argv: ['dumb-init', ...probeCommand], kind: 'wrapper' },
  // The migration plan's image: ENTRYPOINT tini -g --, CMD bash -lc scripts/start.sh. The PATH prefix is only there
  // because Debian's /etc/profile resets PATH for root; start.sh itself is the plan's, verbatim.
  {
    name: 'tini -g + start.sh',
    argv: ['tini', '-g', '--', 'bash', '-lc', `PATH=${bin}:$PATH exec ${startSh}`],
    env: { ROLE: 'web' },
    kind: 'wrapper',
  },
  { name: "node -e ''", argv: [NODE, '-e', ''], kind: 'lifetime', note: 'spawn to exit; no child' },
  { name: 'bare node (spawn + forward)', argv: [NODE, '-e', BARE_NODE], kind: 'wrapper' },
  { name: 'supervisor (supervise)', ...SHIPPED, kind: 'wrapper', ready: /"event":"child\.spawn"/ },
  { name: 'supervisor (exec)', argv: SHIPPED.argv, env: { ...SHIPPED.env, SUPERVISOR_MODE: 'exec' }, kind: 'exec' },
];
// In a container /proc lists a handful of processes, and the supervisor reads all of them once its child exits.
// As root, two more rows run in a PID namespace of their own (start/stop only; the wrapper is PID 1 there, and
// `unshare --fork` adds its own fork and exit to both alike).
if (process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'true']).status === 0) {
  const ns = (argv) => ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...argv];
  ROWS.push(
    { name: 'bare node, own PID namespace', argv: ns([NODE, '-e', BARE_NODE]), kind: 'wrapper', inNamespace: true },
    {
      name: 'supervisor (supervise), own PID namespace',
      argv: ns(SHIPPED.argv),
      env: SHIPPED.env,
      kind: 'wrapper',
      inNamespace: true,
      ready: /"event":"child\.spawn"/,
    },
  );
}
/**
 * Knobs: the supervisor with one thing changed at a time, to show what each buys. Bundle variants are built here
 * from the same src/ with one build choice undone (build.mjs), flags are passed one at a time, and "as first
 * committed" is the core's original build (ES module, execa, sonic-boom, not minified) from git.
 */
// Not --disable-sigusr1: with it Node never delivers SIGUSR1 to a listener, so USR1 could not be forwarded.
const CANDIDATE_FLAGS = ['--max-semi-space-size=1', '--jitless', '--lite-mode', '--single-threaded'];
const KNOBS = [];
async function defineKnobs() {
  if (!args.knobs) return;
  const variant = async (dir, options) => {
    const outfile = join(work, 'variants', dir, 'supervisor.js');
    await buildBundle({ outfile, ...options });
    return outfile;
  };
  const knob = (name, bundle, flags, env = { NODE_COMPILE_CACHE: compileCache }) =>
    KNOBS.push({
      name,
      argv: [NODE, ...flags, bundle],
      env: { ...SUPERVISOR_ENV, ...env },
      kind: 'wrapper',
      ready: /"event":"child\.spawn"| child\.spawn /,
    });
  const baseline = args.baseline === false ? undefined : await buildBaseline(args.baseline);
  if (baseline) knob(`as first committed (${baseline.rev}), no cache`, baseline.file, [], {});
  if (baseline) knob(`as first committed (${baseline.rev}) + compile cache`, baseline.file, []);
  knob('now, no compile cache', SUPERVISOR, [], {});
  knob('now + compile cache', SUPERVISOR, []);
  knob("… but Node's compile cache only (no code cache of its own, src/boot.ts)", await variant('no-code-cache', { codeCache: false }), []);
  const compared = args.compare ? buildAtRevision(args.compare) : undefined;
  if (compared) knob(`${args.compare} (${compared.rev}), same build, + compile cache`, compared.file, []);
  // The log format: a pipe (as here) gets JSON with the default `auto`; forcing either shows what each costs.
  knob('now + compile cache, SUPERVISOR_LOG_FORMAT=json', SUPERVISOR, [], {
    NODE_COMPILE_CACHE: compileCache,
    SUPERVISOR_LOG_FORMAT: 'json',
  });
  knob('now + compile cache, SUPERVISOR_LOG_FORMAT=pretty', SUPERVISOR, [], {
    NODE_COMPILE_CACHE: compileCache,
    SUPERVISOR_LOG_FORMAT: 'pretty',
  });
  // A pod's environment: the image's variables and, for each of seven Services in the namespace, the seven that
  // Kubernetes' service links add. The supervisor reads every name (near-miss warnings) before the program starts.
  const pod = podEnvironment();
  knob(`now + compile cache, a pod's environment (${Object.keys(pod).length} more variables)`, SUPERVISOR, [], {
    NODE_COMPILE_CACHE: compileCache,
    ...pod,
  });
  knob('… but an ES module bundle', await variant('esm', { format: 'esm' }), []);
  knob('… but not minified', await variant('unminified', { minify: false }), []);
  knob('… but no GC after spawn (V8 memory reducer left polling)', await variant('no-startup-gc', { startupGc: false }), []);
  // build.mjs's two pino patches, undone one at a time and together: what each buys is why it stays.
  knob(
    "… but pino's tools.js unpatched (worker_threads loaded at import)",
    await variant('pino-tools-unpatched', { without: ['pino-worker-threads-on-use'] }),
    [],
  );
  knob(
    '… but sonic-boom and thread-stream loaded at import (and worker_threads with thread-stream)',
    await variant('pino-eager-modules', { without: ['lazy-modules'] }),
    [],
  );
  knob(
    '… but pino unpatched (sonic-boom, thread-stream, worker_threads loaded at import)',
    await variant('pino-unpatched', { without: ['lazy-modules', 'pino-worker-threads-on-use'] }),
    [],
  );
  for (const flag of CANDIDATE_FLAGS) knob(`now + compile cache + ${flag}`, SUPERVISOR, [flag]);
  knob(`shipped: compile cache + ${SUPERVISOR_NODE_FLAGS.join(' ') || '(no flags)'}`, SUPERVISOR, SUPERVISOR_NODE_FLAGS);
}

/** The variables of a pod of the image in a namespace with seven Services (service links on, Kubernetes' default). */
function podEnvironment() {
  const env = {
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    PYTHONPATH: '/app:/app/patched_packages',
    PYTHON_VERSION: '3.12.8',
    GPG_KEY: '7169605F62C751356D054A26A821E680E5FA6305',
    PORT: '8080',
    HOSTNAME: 'eveai-app-7d9c6b5f4-x2x7q',
    DATABASE_URL: 'postgresql://eveai@postgres:5432/eveai',
    REDIS_URL: 'redis://redis:6379/0',
  };
  for (const service of ['KUBERNETES', 'REDIS', 'POSTGRES', 'EVEAI_APP', 'EVEAI_API', 'MINIO', 'PROMETHEUS']) {
    const address = '10.96.0.10';
    Object.assign(env, {
      [`${service}_SERVICE_HOST`]: address,
      [`${service}_SERVICE_PORT`]: '443',
      [`${service}_PORT`]: `tcp://${address}:443`,
      [`${service}_PORT_443_TCP`]: `tcp://${address}:443`,
      [`${service}_PORT_443_TCP_PROTO`]: 'tcp',
      [`${service}_PORT_443_TCP_PORT`]: '443',
      [`${service}_PORT_443_TCP_ADDR`]: address,
    });
  }
  return env;
}

/** REV's src/ and build.mjs, built as REV builds it (its own build.mjs, this checkout's node_modules). */
function buildAtRevision(rev) {
  try {
    const { sha, dir } = unpackRevision(ROOT, rev, work);
    execFileSync(NODE, [join(dir, 'build.mjs')], { cwd: dir, stdio: 'ignore' });
    return { rev: sha, file: join(dir, 'dist', 'supervisor.js') };
  } catch (error) {
    process.stderr.write(`[bench] no --compare row: ${String(error.message ?? error).split('\n')[0]}\n`);
    return undefined;
  }
}

/** The core as first committed (the commit that added src/supervisor.ts), bundled with its own build options. */
async function buildBaseline(rev) {
  try {
    rev ??= execFileSync('git', ['log', '--diff-filter=A', '--format=%h', '--', 'src/supervisor.ts'], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop();
    const dir = join(work, 'baseline');
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${rev} src | tar -x -C ${dir}`], { cwd: ROOT });
    const { build } = await import('esbuild');
    const file = join(dir, 'dist', 'supervisor.js');
    await build({
      entryPoints: [join(dir, 'src', 'supervisor.ts')],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      define: { __SUPERVISOR_VERSION__: '"baseline"' },
      nodePaths: [join(ROOT, 'node_modules')],
      legalComments: 'none',
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'dist', 'package.json'), '{ "type": "module" }\n');
    return { rev, file };
  } catch (error) {
    process.stderr.write(`[bench] no baseline row: ${String(error.message ?? error).split('\n')[0]}\n`);
    return undefined;
  }
}

/**
 * Fills the compile caches the way the image does at build time (Dockerfile.base): first a supervised run that a
 * TERM stops (the run that writes the supervisor's own code cache, src/boot.ts), then --check per role and one short
 * command (Node's compile cache of the rest).
 */
function primeCompileCache(flagSets, bundles) {
  for (const bundle of bundles) {
    for (const flags of flagSets) {
      const env = { ...BASE_ENV, NODE_COMPILE_CACHE: compileCache };
      spawnSync(NODE, [...flags, bundle, '--', '/bin/sh', '-c', 'kill -TERM "$PPID"; exec sleep 5'], { env, stdio: 'ignore' });
      for (const role of ['web', 'worker', 'beat'])
        spawnSync(NODE, [...flags, bundle, '--check'], { env: { ...env, ROLE: role }, stdio: 'ignore' });
      spawnSync(NODE, [...flags, bundle, '--', 'true'], { env, stdio: 'ignore' });
    }
  }
}

// ---------------------------------------------------------------- one wrapper process, with the child's report lines
class Run {
  constructor(row) {
    this.row = row;
    this.lines = [];
    this.waiters = [];
    this.err = '';
    const env = { ...BASE_ENV, ...row.env, PROBE_MODE: row.kind === 'lifetime' ? 'start' : 'idle' };
    this.t0 = process.hrtime.bigint();
    this.proc = spawn(row.argv[0], row.argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.pid = this.proc.pid;
    live.add(this.pid);
    this.exited = new Promise((done) =>
      this.proc.on('exit', (code, signal) => {
        this.tExit = process.hrtime.bigint();
        live.delete(this.pid);
        done({ code, signal });
      }),
    );
    let out = '';
    this.proc.stdout.setEncoding('latin1').on('data', (chunk) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        this.onLine(out.slice(0, nl));
        out = out.slice(nl + 1);
      }
    });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk) => {
      this.err += chunk;
      if (this.err.length > 1 << 20) this.err = this.err.slice(-(1 << 19));
      this.wake();
    });
  }
  onLine(text) {
    const [kind, a, b] = text.split(' ');
    const line =
      kind === 'G'
        ? { kind, signo: Number(a), t: BigInt(b) }
        : kind === 'S'
          ? { kind, pid: Number(a), t: BigInt(b) }
          : { kind, t: BigInt(a) };
    // A pid printed inside a PID namespace means nothing outside it: never record it (--kill-child cleans up there).
    if (kind === 'S' && !this.row.inNamespace) (live.add(line.pid), (this.childPid = line.pid));
    if (kind === 'X') live.delete(this.childPid);
    this.lines.push(line);
    this.wake();
  }
  wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  async until(predicate, what, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = predicate();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`${this.row.name}: no ${what} within ${timeoutMs} ms; stderr:\n${this.err.slice(-3000)}`);
      await Promise.race([new Promise((w) => this.waiters.push(w)), sleep(50)]);
    }
  }
  line(kind, signo) {
    return this.lines.find((l) => l.kind === kind && (signo === undefined || l.signo === signo));
  }
  /** The process that holds the wrapper's memory: for exec the wrapper is gone (it became the child). */
  get wrapperPid() {
    return this.row.kind === 'wrapper' || this.row.kind === 'idle-node' ? this.pid : undefined;
  }
  async ready() {
    if (this.row.kind === 'idle-node') return;
    await this.until(() => this.line('R'), 'ready line from the child');
    if (this.row.ready) await this.until(() => this.row.ready.test(this.err), `log line ${this.row.ready}`);
  }
  kill(signal) {
    process.kill(this.row.inNamespace ? this.namespacePidOne() : this.pid, signal);
  }
  /** The wrapper inside `unshare --pid --fork`: unshare's only child, PID 1 of the namespace (host pid here). */
  namespacePidOne() {
    const children = readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').trim().split(' ').map(Number);
    if (!(children[0] > 1)) throw new Error(`${this.row.name}: unshare ${this.pid} has no child`);
    return children[0];
  }
  async stop() {
    try {
      this.kill('SIGTERM');
    } catch {}
    const timer = setTimeout(() => {
      for (const pid of [this.pid, this.childPid])
        if (pid)
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
    }, 10_000);
    const end = await this.exited;
    clearTimeout(timer);
    return end;
  }
}

// ---------------------------------------------------------------- phase 1: start-up, TERM latency, stop overhead
const ns = (a, b) => Number(a - b) / 1e6; // ms

async function startStopOnce(row, sample) {
  const run = new Run(row);
  try {
    if (row.kind === 'lifetime') {
      const end = await run.exited;
      if (end.code !== 0) throw new Error(`${row.name} exited ${end.code}/${end.signal}`);
      sample.startup.push(ns(run.tExit, run.t0));
      return;
    }
    await run.ready();
    sample.startup.push(ns(run.line('S').t, run.t0));
    await sleep(5); // let the wrapper go idle after its own start-up
    const t1 = process.hrtime.bigint();
    run.kill('SIGTERM');
    let timer;
    const end = await Promise.race([
      run.exited,
      new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`${row.name}: no exit within 20 s of TERM`)), 20_000))),
    ]);
    clearTimeout(timer);
    const got = run.line('G', 15);
    const last = run.line('X');
    if (!got || !last || end.code !== 0)
      throw new Error(
        `${row.name}: TERM did not reach the child or exit 0 (exit ${end.code}/${end.signal}); stderr:\n${run.err.slice(-2000)}`,
      );
    sample.term.push(ns(got.t, t1));
    sample.stop.push(ns(run.tExit, last.t));
  } catch (error) {
    await run.stop();
    throw error;
  }
}

// ---------------------------------------------------------------- phase 2: idle memory and CPU, HUP/USR1 latency
const SETTLE_S = 15;
function memoryOf(pid) {
  if (pid === undefined) return { rss: 0, pss: 0, uss: 0 };
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024, uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

function cpuOf(pid) {
  if (pid === undefined) return { ticks: 0, ns: 0, switches: 0, threads: 0 };
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
  let cpuNs = 0;
  let switches = 0;
  const tasks = readdirSync(`/proc/${pid}/task`);
  for (const tid of tasks) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      switches +=
        Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]);
    } catch {}
  }
  return { ticks, ns: cpuNs, switches, threads: tasks.length };
}

async function signalOnce(run, signal, signo, into) {
  const before = run.lines.length;
  const t1 = process.hrtime.bigint();
  run.kill(signal);
  const got = await run.until(
    () => run.lines.slice(before).find((l) => l.kind === 'G' && l.signo === signo),
    `${signal} at the child`,
    5000,
  );
  into.push(ns(got.t, t1));
}

// ---------------------------------------------------------------- statistics and the report
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs) => quantile(xs, 0.5);
const p99 = (xs) => quantile(xs, 0.99);
const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

function shuffle(xs) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function main() {
  const began = new Date();
  const started = Date.now();
  const log = (msg) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  // Every process this harness starts inherits its priority (fork from this thread): all rows alike.
  if (args.nice !== 0) setPriority(args.nice);
  log(
    `child: ${probe.description}; supervisor: ${SUPERVISOR}; node ${process.version}; flags ${SUPERVISOR_NODE_FLAGS.join(' ') || '(none)'}`,
  );

  await defineKnobs();
  const all = [...ROWS, ...KNOBS];
  // The compile cache as the image ships it (primed at build time), then a warm-up of every row (page cache).
  const cached = all.filter((row) => row.env?.NODE_COMPILE_CACHE);
  const bundles = [...new Set(cached.map((row) => row.argv.find((a) => a.endsWith('.js'))))];
  const flagSets = [
    ...new Map(
      cached.map((row) => [
        row.argv
          .slice(
            1,
            row.argv.findIndex((a) => a.endsWith('.js')),
          )
          .join(' '),
        row.argv.slice(
          1,
          row.argv.findIndex((a) => a.endsWith('.js')),
        ),
      ]),
    ).values(),
  ];
  primeCompileCache(flagSets, bundles);
  for (const row of all) for (let i = 0; i < 3; i++) await startStopOnce(row, { startup: [], term: [], stop: [] });

  const samples = new Map(all.map((row) => [row.name, { startup: [], term: [], stop: [], hup: [], usr1: [] }]));
  log(`phase 1: start-up, TERM and stop overhead, ${args.runs} runs per row (${args.knobRuns} per knob), interleaved`);
  const rounds = Math.max(args.runs, args.knobRuns);
  for (let i = 0; i < rounds; i++) {
    const rows = [...(i < args.runs ? ROWS : []), ...(i < args.knobRuns ? KNOBS : [])];
    for (const row of shuffle(rows)) await startStopOnce(row, samples.get(row.name));
    if ((i + 1) % Math.max(1, Math.floor(rounds / 10)) === 0) log(`  ${i + 1}/${rounds}`);
  }

  log(`phase 2: every wrapper idles side by side for ${args.idle} s (memory, CPU), then ${args.signals} HUP and USR1 each`);
  const idleRows = [
    ...ROWS.filter((r) => r.kind !== 'lifetime' && !r.inNamespace),
    { name: 'idle node (nothing loaded)', argv: [NODE, '-e', 'setTimeout(() => {}, 2 ** 31 - 1)'], kind: 'idle-node' },
    ...KNOBS,
  ];
  const runs = idleRows.map((row) => new Run(row));
  const idle = new Map();
  try {
    await Promise.all(runs.map((r) => r.ready()));
    // The first SETTLE_S seconds after the child is ready are start-up's tail (the supervisor's one GC after 1 s,
    // V8's memory reducer finishing ~8 s later): reported on their own, then the idle window proper.
    const cpuReady = new Map(runs.map((r) => [r, cpuOf(r.wrapperPid)]));
    await sleep(SETTLE_S * 1000);
    const cpu0 = new Map(runs.map((r) => [r, cpuOf(r.wrapperPid)]));
    await sleep(args.idle * 1000);
    for (const r of runs) {
      const cpu1 = cpuOf(r.wrapperPid);
      const c0 = cpu0.get(r);
      const settleMs = (c0.ns - cpuReady.get(r).ns) / 1e6;
      idle.set(r.row.name, {
        ...memoryOf(r.wrapperPid),
        ticks: cpu1.ticks - c0.ticks,
        cpuMs: (cpu1.ns - c0.ns) / 1e6,
        switches: cpu1.switches - c0.switches,
        threads: cpu1.threads,
        settleMs,
      });
    }
    const signalRuns = runs.filter((r) => r.row.kind !== 'idle-node' && !KNOBS.includes(r.row));
    for (let i = 0; i < args.signals; i++) {
      for (const r of shuffle(signalRuns)) {
        const s = samples.get(r.row.name);
        await signalOnce(r, 'SIGHUP', 1, s.hup);
        await sleep(1);
        await signalOnce(r, 'SIGUSR1', 10, s.usr1);
        await sleep(1);
      }
      if ((i + 1) % Math.max(1, Math.floor(args.signals / 5)) === 0) log(`  signals ${i + 1}/${args.signals}`);
    }
  } finally {
    await Promise.all(runs.map((r) => r.stop()));
  }

  const report = renderReport({ began, seconds: (Date.now() - started) / 1000, samples, idle, idleRows });
  writeFileSync(args.out, report);
  log(`wrote ${args.out}`);
  process.stdout.write(report);
}

function renderReport({ began, seconds, samples, idle, idleRows }) {
  const processCount = readdirSync('/proc').filter((e) => /^[0-9]+$/.test(e)).length;
  const get = (name) => samples.get(name);
  const bareStart = median(get('bare node (spawn + forward)').startup);
  const nodeE = median(get("node -e ''").startup);
  const tiniStart = median(get('tini --').startup);
  const idleNode = idle.get('idle node (nothing loaded)');
  const bareIdle = idle.get('bare node (spawn + forward)');
  const tiniIdle = idle.get('tini --');
  const sup = 'supervisor (supervise)';
  const lines = [];
  const cpu = cpus()[0]?.model ?? 'unknown';
  lines.push(
    '# eveai-supervisor benchmark',
    '',
    `Generated by \`${['node bench/run.mjs', ...process.argv.slice(2)].join(' ')}\` (\`npm run bench\` runs it with the defaults) on ${began.toISOString()} in ${seconds.toFixed(0)} s. Do not edit: rerun. Method: bench/README.md.`,
    '',
    `- machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}; load average at start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (shared machine: compare ratios, not absolutes)`,
    `- node ${process.version} (${shownPath(NODE)}); tini ${versionOf(['tini', '--version'])}; dumb-init ${versionOf(['dumb-init', '--version'])}; bash ${versionOf(['bash', '-c', 'echo $BASH_VERSION'])}`,
    `- supervisor: ${shownPath(SUPERVISOR)} (${(readFileSync(SUPERVISOR).length / 1024).toFixed(0)} KiB), run as \`node ${SUPERVISOR_NODE_FLAGS.join(' ')}${SUPERVISOR_NODE_FLAGS.length ? ' ' : ''}supervisor.js\` with NODE_COMPILE_CACHE primed as the image primes it at build time (a supervised run stopped by a TERM, then --check per role: Node's compile cache and the supervisor's own code cache), ROLE=web and DRAIN_DELAY=0, \`gunicorn\` on PATH = the child`,
    `- child: ${probe.description}`,
    `- samples: ${args.runs} start/stop runs per row, interleaved in random order; ${args.signals} HUP + ${args.signals} USR1 per row; idle ${args.idle} s with every wrapper alive side by side${args.nice ? `; everything runs at niceness ${args.nice}` : ''}`,
    `- processes on this machine: ${processCount} (the supervisor reads /proc/*/stat and /proc/*/environ of every process once when its child exits; a container has a handful)`,
    '',
    '## Headline (ratios in this run)',
    '',
    '| | supervisor | target | vs bare node | vs tini | met |',
    '|---|---|---|---|---|---|',
  );
  const supStart = median(get(sup).startup);
  const supIdle = idle.get(sup);
  const bare = get('bare node (spawn + forward)');
  const termP99 = p99(get(sup).term);
  const otherP99 = Math.max(p99(get(sup).hup), p99(get(sup).usr1));
  const stopMed = median(get(sup).stop);
  const stopP99 = p99(get(sup).stop);
  const nsStop = samples.get('supervisor (supervise), own PID namespace')?.stop;
  const nsBareStop = samples.get('bare node, own PID namespace')?.stop;
  const ok = (b) => (b ? 'yes' : '**no**');
  lines.push(
    `| start-up, median | ${fmt(supStart)} ms | ≤ 1.3× bare node | ${ratio(supStart, bareStart)} (vs \`node -e ''\` lifetime: ${ratio(supStart, nodeE)}) | ${ratio(supStart, tiniStart)} | ${ok(supStart <= 1.3 * bareStart)} |`,
    `| idle RSS | ${fmt(supIdle.rss, 1)} MiB | ≤ 1.15× idle node | ${ratio(supIdle.rss, idleNode.rss)} (vs bare node supervisor: ${ratio(supIdle.rss, bareIdle.rss)}) | ${ratio(supIdle.rss, tiniIdle.rss)} | ${ok(supIdle.rss <= 1.15 * idleNode.rss)} |`,
    `| idle USS (private memory) | ${fmt(supIdle.uss, 1)} MiB | ≤ 1.3× idle node | ${ratio(supIdle.uss, idleNode.uss)} (vs bare node supervisor: ${ratio(supIdle.uss, bareIdle.uss)}) | ${ratio(supIdle.uss, tiniIdle.uss)} | ${ok(supIdle.uss <= 1.3 * idleNode.uss)} |`,
    `| TERM forwarding p99 | ${fmt(termP99, 3)} ms (median ${fmt(median(get(sup).term), 3)} ms; HUP and USR1 p99 ${fmt(otherP99, 3)} ms; the machine's floor, child signalled directly: ${fmt(p99(get('child directly').term), 3)} ms) | ≤ 1.5× bare node | ${ratio(termP99, p99(bare.term))} (median ${ratio(median(get(sup).term), median(bare.term))}) | ${ratio(termP99, p99(get('tini --').term))} | ${ok(termP99 <= 1.5 * p99(bare.term))} |`,
    `| stop overhead, median | ${fmt(stopMed)} ms (p99 ${fmt(stopP99)} ms)${nsStop ? `; own PID namespace, as in a container: ${fmt(median(nsStop))} ms, bare node there ${fmt(median(nsBareStop))} ms: ${ratio(median(nsStop), median(nsBareStop))}` : ''} | ≤ 1.3× bare node | ${ratio(stopMed, median(bare.stop))} | ${ratio(stopMed, median(get('tini --').stop))} | host: ${ok(stopMed <= 1.3 * median(bare.stop))}${nsStop ? `; container: ${ok(median(nsStop) <= 1.3 * median(nsBareStop))}` : ''} |`,
    `| idle CPU over ${args.idle} s | ${fmt(supIdle.cpuMs, 3)} ms (${supIdle.ticks} ticks, ${supIdle.switches} wake-ups; ${fmt(supIdle.settleMs, 1)} ms in the ${SETTLE_S} s before) | 0 | | | ${ok(supIdle.ticks === 0 && supIdle.switches === 0)} |`,
    `| exec mode: resident overhead | 0 (the process became the child) | 0 | | | yes |`,
    '',
    "## 1. Start-up: spawn → the child's first instruction (ms)",
    '',
    '| wrapper | median | p99 | vs bare node | vs tini |',
    '|---|---|---|---|---|',
  );
  for (const row of ROWS) {
    const s = get(row.name).startup;
    lines.push(
      `| ${row.name}${row.note ? ` (${row.note})` : ''} | ${fmt(median(s))} | ${fmt(p99(s))} | ${ratio(median(s), bareStart)} | ${ratio(median(s), tiniStart)} |`,
    );
  }
  lines.push(
    '',
    '## 2–3. The wrapper while the child idles',
    '',
    `Memory of the wrapper process alone (the child is not counted; exec mode has no wrapper left). PSS splits shared pages among every process mapping them, including this harness (also Node), so read RSS and USS (private pages) first. CPU over ${args.idle} s, starting ${SETTLE_S} s after the child was ready (start-up's tail is the "CPU ms, first ${SETTLE_S} s" column): utime+stime ticks (/proc/PID/stat, 10 ms each), on-CPU time from schedstat, and context switches (wake-ups) of all threads. Memory is read at the end of the idle window.`,
    '',
    `| wrapper | RSS MiB | PSS MiB | USS MiB | RSS vs idle node | RSS vs tini | CPU ticks | CPU ms | wake-ups | threads | CPU ms, first ${SETTLE_S} s |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const row of idleRows.filter((r) => !KNOBS.includes(r))) {
    const m = idle.get(row.name);
    lines.push(
      `| ${row.name} | ${fmt(m.rss, 1)} | ${fmt(m.pss, 1)} | ${fmt(m.uss, 1)} | ${ratio(m.rss, idleNode.rss)} | ${ratio(m.rss, tiniIdle.rss)} | ${m.ticks} | ${fmt(m.cpuMs, 3)} | ${m.switches} | ${m.threads} | ${fmt(m.settleMs, 3)} |`,
    );
  }
  lines.push(
    '',
    '## 4–5. Signal forwarding and stop overhead (ms)',
    '',
    `kill(wrapper) → the child's handler runs. TERM is a stop request: the supervisor passes it on exactly once per life (by design), so TERM is sampled once per start/stop run (${args.runs}); HUP and USR1 are forwarded to the leader by ROLE=web (${args.signals} each). Stop overhead: the child's last instruction before _exit → the harness sees the wrapper exit (the "child directly" row is the harness's own share).`,
    '',
    '| wrapper | TERM p50 | TERM p99 | HUP p50 | HUP p99 | USR1 p50 | USR1 p99 | stop overhead p50 | p99 |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const row of ROWS.filter((r) => r.kind !== 'lifetime')) {
    const s = get(row.name);
    lines.push(
      `| ${row.name} | ${fmt(median(s.term), 3)} | ${fmt(p99(s.term), 3)} | ${fmt(median(s.hup), 3)} | ${fmt(p99(s.hup), 3)} | ${fmt(median(s.usr1), 3)} | ${fmt(p99(s.usr1), 3)} | ${fmt(median(s.stop), 3)} | ${fmt(p99(s.stop), 3)} |`,
    );
  }
  if (KNOBS.length > 0) {
    const now = get('now + compile cache');
    lines.push(
      '',
      '## What each knob buys (the supervisor, one change at a time)',
      '',
      `${args.knobRuns} start/stop runs each, interleaved with the rows above; memory from the same idle period. Rows starting with "…" are today's bundle with one build choice undone; "+ flag" rows add one Node flag. Bundles are rebuilt from src/ by build.mjs; "as first committed" is the core's own build of its first commit.`,
      '',
      '| variant | start-up median | p99 | vs bare node | vs "now + compile cache" | RSS MiB | USS MiB | RSS vs idle node | TERM p50 | TERM p99 | stop overhead p50 |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const row of KNOBS) {
      const s = get(row.name);
      const m = idle.get(row.name);
      lines.push(
        `| ${row.name} | ${fmt(median(s.startup))} | ${fmt(p99(s.startup))} | ${ratio(median(s.startup), bareStart)} | ${ratio(median(s.startup), median(now.startup))} | ${fmt(m.rss, 1)} | ${fmt(m.uss, 1)} | ${ratio(m.rss, idleNode.rss)} | ${fmt(median(s.term), 3)} | ${fmt(p99(s.term), 3)} | ${fmt(median(s.stop))} |`,
      );
    }
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

/** A path as RESULTS.md shows it: relative to the checkout, so the file says nothing about the machine's layout. */
function shownPath(path) {
  const inside = relative(ROOT, path);
  return inside.startsWith('..') || isAbsolute(inside) ? basename(path) : inside;
}

function versionOf(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return (r.stdout || r.stderr || '?')
    .trim()
    .split('\n')[0]
    .replace(/^tini version /, '')
    .replace(/^dumb-init v/, '');
}

// ---------------------------------------------------------------- the child program
function buildProbe() {
  const out = join(work, 'probe');
  for (const flags of [['-static'], []]) {
    const r = spawnSync('cc', ['-O2', ...flags, '-o', out, join(ROOT, 'bench', 'probe.c')], { encoding: 'utf8' });
    if (r.status === 0)
      return {
        kind: 'c',
        argv: [out],
        description: `bench/probe.c compiled with \`cc -O2 ${flags.join(' ')}\` (starts in well under a millisecond)`,
      };
  }
  return {
    kind: 'python',
    argv: ['python3', '-S', '-I', join(ROOT, 'bench', 'probe.py')],
    description: "bench/probe.py under `python3 -S -I` (no C compiler found: every row includes the interpreter's start-up)",
  };
}

function parseArgs(argv) {
  const a = {
    runs: 300,
    signals: 1000,
    idle: 60,
    knobRuns: 100,
    knobs: true,
    nice: process.getuid?.() === 0 ? -10 : 0,
    out: join(ROOT, 'bench', 'RESULTS.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    switch (argv[i]) {
      case '--runs':
        a.runs = Number(next());
        break;
      case '--signals':
        a.signals = Number(next());
        break;
      case '--idle':
        a.idle = Number(next());
        break;
      case '--knob-runs':
        a.knobRuns = Number(next());
        break;
      case '--no-knobs':
        a.knobs = false;
        break;
      case '--baseline':
        a.baseline = next();
        break;
      case '--compare':
        a.compare = next();
        break;
      case '--nice':
        a.nice = Number(next());
        break;
      case '--no-baseline':
        a.baseline = false;
        break;
      case '--quick':
        Object.assign(a, { runs: 30, signals: 100, idle: 5, knobRuns: 15 });
        break;
      case '--supervisor':
        a.supervisor = next();
        break;
      case '--out':
        a.out = resolve(next());
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return a;
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  cleanup();
  process.exit(1);
});
