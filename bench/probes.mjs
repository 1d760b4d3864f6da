#!/usr/bin/env node
// `npm run bench` (after run.mjs): what the probe endpoint costs, in one run, written to bench/RESULTS-probes.md.
//
//   node bench/probes.mjs [--instances N] [--count N] [--checkpoint N] [--gap MS] [--settle S] [--idleAfter S]
//                         [--rounds N] [--cpuProbes N] [--startups N] [--execs N] [--before REV] [--quick] [--out FILE]
//   defaults: --instances 2 --count 100000 --checkpoint 10000 --gap 5 --settle 20 --idleAfter 20 --rounds 5
//             --cpuProbes 2000 --startups 30 --execs 40 (about 25 minutes on 2 cores);
//   --quick: --count 12000 --checkpoint 2000 --rounds 2 --cpuProbes 500 --startups 10 --execs 10 (about 4 minutes)
//
// Every variant runs as the image runs it (its Node flags from build.mjs, compile cache primed), ROLE=web with a
// stand-in `gunicorn` that sleeps; a listener of the harness plays its port, so /ready's connect succeeds. Variants:
// the shipped bundle; the bundle at --before (default: the last revision whose endpoint used node:http) with its own
// build and flags; and the shipped bundle with one memory means of src/probes/memory.ts undone, or both.
//
//   1. Memory at two paces: --instances supervisors per variant and pace, started interleaved, idle figures after
//      --settle s (past the one GC after spawn and V8's memory reducer), then --count sequential probes each,
//      two /live to one /ready as a kubelet sends them (its request line and headers), with RSS, PSS and USS
//      (/proc/PID/smaps_rollup) at --checkpoint and --count, and --idleAfter s after the last probe. "Full speed":
//      the next probe as soon as the last answer is read. "Paced": --gap ms of idle between probes. V8's heap spaces
//      are read when each supervisor exits (a preload that reads them then, and does nothing before).
//   2. CPU per probe: the supervisor's CPU (every thread, /proc/PID/task/*/schedstat) over --cpuProbes sequential
//      GET /live and GET /ready, on the full-speed supervisors after their run (steady state), variants interleaved,
//      median of --rounds rounds.
//   3. Start-up: spawn to the `child.spawn` line, with and without PROBE_PORT, variants interleaved, median of
//      --startups runs; plus a V8 flag in the command line instead of at run time (it costs Node its built-in code
//      cache).
//   4. For context, what an exec probe costs in the container (a process per probe): CPU (user+sys of the probe's
//      processes, from bash's `times`) and wall time, median of --execs runs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { SUPERVISOR_NODE_FLAGS, buildBundle } from '../build.mjs';
import { unpackRevision } from './revision.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const args = parseArgs(process.argv.slice(2));

const work = mkdtempSync(join(tmpdir(), 'eveai-bench-probes-'));
/** Process groups to kill if the bench ends early: the supervisors', and their programs' (a group of their own). */
const live = new Set();
function cleanup() {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL'); // each was started as the leader of a group of its own
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => (cleanup(), process.exit(130)));

const bin = join(work, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'gunicorn'), '#!/bin/sh\nexec sleep 1000000\n');
chmodSync(join(bin, 'gunicorn'), 0o755);
const ENV = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: work, LANG: 'C.UTF-8', ROLE: 'web' };

// Reads V8's heap spaces when the supervisor exits; loads nothing before that.
const HEAP_PRELOAD = join(work, 'heap-at-exit.cjs');
writeFileSync(
  HEAP_PRELOAD,
  `if (process.env.BENCH_HEAP_OUT) process.on('exit', () => {
  const v8 = process.getBuiltinModule('node:v8');
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  const heap = v8.getHeapStatistics();
  require('node:fs').writeFileSync(process.env.BENCH_HEAP_OUT, JSON.stringify({ spaces, total: heap.total_heap_size, malloced: heap.malloced_memory }));
});\n`,
);

// ---------------------------------------------------------------- variants
/** A bundle and the Node flags it runs with; `env` adds PROBE_PORT unless `probes` is false. */
async function variants() {
  const shipped = join(work, 'shipped', 'supervisor.js');
  await buildBundle({ outfile: shipped });
  const undone = async (name, define) => {
    const outfile = join(work, name, 'supervisor.js');
    await buildBundle({ outfile, define });
    return outfile;
  };
  const list = [
    { key: 'off', name: 'no PROBE_PORT (nothing of the endpoint loaded)', bundle: shipped, flags: SUPERVISOR_NODE_FLAGS, probes: false },
    { key: 'shipped', name: 'shipped', bundle: shipped, flags: SUPERVISOR_NODE_FLAGS },
    {
      key: 'tiersOn',
      name: '… but V8 optimizing compilers left on',
      bundle: await undone('tiers-on', { __PROBES_TIERS_OFF__: 'false' }),
      flags: SUPERVISOR_NODE_FLAGS,
    },
    {
      key: 'gcPlain',
      name: '… but a plain full GC every 256 connections (the young generation not shrunk)',
      bundle: await undone('gc-plain', { __PROBES_GC_REDUCES_MEMORY__: 'false' }),
      flags: SUPERVISOR_NODE_FLAGS,
    },
    {
      key: 'noGc',
      name: '… but no collection every 256 connections',
      bundle: await undone('no-gc', { __PROBES_GC_EVERY__: '0' }),
      flags: SUPERVISOR_NODE_FLAGS,
    },
    {
      key: 'netOnly',
      name: '… neither (the node:net endpoint alone)',
      bundle: await undone('net-only', { __PROBES_TIERS_OFF__: 'false', __PROBES_GC_EVERY__: '0' }),
      flags: SUPERVISOR_NODE_FLAGS,
    },
  ];
  // The image's CMD flags, each left out once: what it buys now.
  for (const flag of SUPERVISOR_NODE_FLAGS) {
    list.push({
      key: `without-${flag.replace(/[^a-z0-9]+/gi, '')}`,
      name: `… but without \`${flag}\``,
      bundle: shipped,
      flags: SUPERVISOR_NODE_FLAGS.filter((f) => f !== flag),
    });
  }
  const before = await buildBefore(args.before);
  if (before)
    list.splice(1, 0, {
      key: 'before',
      name: `before (${before.rev}: node:http)`,
      rev: before.rev,
      bundle: before.file,
      flags: before.flags,
    });
  return list;
}

/** The revision before the endpoint left node:http: the parent of the newest commit that changed that import. */
function defaultBefore() {
  const sha = execFileSync('git', ['log', '-1', '--format=%h', "-Sprocess.getBuiltinModule('node:http')", '--', 'src/probes/server.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const committed = execFileSync('git', ['show', 'HEAD:src/probes/server.ts'], { cwd: ROOT, encoding: 'utf8' });
  return committed.includes("getBuiltinModule('node:http')") ? 'HEAD' : `${sha}^`;
}

/** REV's src/, build.mjs and package.json, built by its own build.mjs (this checkout's node_modules); its CMD flags. */
async function buildBefore(rev = defaultBefore()) {
  try {
    const { sha, dir } = unpackRevision(ROOT, rev, work);
    const build = await import(pathToFileURL(join(dir, 'build.mjs')).href);
    await build.buildBundle();
    return { rev: sha, file: join(dir, 'dist', 'supervisor.js'), flags: build.SUPERVISOR_NODE_FLAGS ?? [] };
  } catch (error) {
    process.stderr.write(`[bench probes] no "before" row: ${String(error.message ?? error).split('\n')[0]}\n`);
    return undefined;
  }
}

// ---------------------------------------------------------------- supervisors and probes
/** A port the kernel picks as free right now. */
async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

const cacheDir = (variant) => join(work, 'cc', variant.key);

/** Fills each variant's compile cache the way the image does at build time. */
function primeCompileCaches(list) {
  for (const variant of list) {
    spawnSync(NODE, [...variant.flags, variant.bundle, '--check'], { env: { ...ENV, NODE_COMPILE_CACHE: cacheDir(variant) } });
  }
}

/** One supervisor of `variant`; the program's port gets a listener of ours. Resolves once the program runs. */
async function startSupervisor(variant, { probes = variant.probes !== false, heapOut, heartbeat } = {}) {
  const appPort = await freePort();
  const listener = net.createServer((s) => s.destroy());
  await new Promise((r) => listener.listen(appPort, '127.0.0.1', r));
  const env = { ...ENV, PORT: String(appPort), NODE_COMPILE_CACHE: cacheDir(variant) };
  if (probes) env.PROBE_PORT = String(await freePort());
  if (heapOut) Object.assign(env, { NODE_OPTIONS: `--require ${HEAP_PRELOAD}`, BENCH_HEAP_OUT: heapOut });
  if (heartbeat) Object.assign(env, { PROBE_HEARTBEAT_FILE: join(work, `hb-${appPort}`), PROBE_HEARTBEAT_MAX_AGE: '3600' });
  const started = process.hrtime.bigint();
  const proc = spawn(NODE, [...variant.flags, variant.bundle], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  live.add(proc.pid);
  let err = '';
  let programGroup;
  const startupMs = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`supervisor did not start:\n${err}`)), 20_000);
    proc.stderr.setEncoding('utf8').on('data', (chunk) => {
      err += chunk;
      if (programGroup !== undefined) return;
      const spawned = /"event":"child\.spawn".*?"child_pid":(\d+)/.exec(err);
      if (!spawned) return;
      programGroup = Number(spawned[1]);
      live.add(programGroup);
      clearTimeout(timer);
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
    proc.once('exit', () => (clearTimeout(timer), reject(new Error(`supervisor exited:\n${err}`))));
  });
  if (heartbeat) closeSync(openSync(env.PROBE_HEARTBEAT_FILE, 'w'));
  return {
    variant,
    pid: proc.pid,
    probePort: env.PROBE_PORT && Number(env.PROBE_PORT),
    startupMs,
    heapOut,
    marks: {},
    peaks: {},
    output: () => err,
    async stop() {
      process.kill(proc.pid, 'SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      live.delete(proc.pid);
      live.delete(programGroup); // the supervisor stopped it
      listener.close();
    },
  };
}

// What a kubelet sends (Go's net/http with keep-alives off).
const request = (path) =>
  Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 10.1.2.3:9000\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
const LIVE = request('/live');
const READY = request('/ready');

/** One probe on a fresh connection; resolves with the status once the server closed the connection. */
function probe(port, req) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(req));
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(answer.slice(9, 12))));
  });
}

/** Probes 1..count, the pattern of a kubelet's two probes (two /live to one /ready); `each(n)` after every answer. */
async function probeSequence(sup, count, gapMs, each) {
  for (let n = 1; n <= count; n++) {
    const status = await probe(sup.probePort, n % 3 === 0 ? READY : LIVE).catch((error) => {
      throw new Error(`${sup.variant.key}: probe ${n}: ${error.message}\n${sup.output()}`);
    });
    if (status !== 200) throw new Error(`${sup.variant.key}: probe ${n} answered ${status}`);
    each(n);
    if (gapMs > 0) await sleep(gapMs);
  }
}

function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024, uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}
function cpuNs(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {}
  }
  return total;
}

const median = (xs) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const signed = (x, d = 1) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(d)}` : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

// ---------------------------------------------------------------- 1. memory at two paces
async function memoryRun(list, gapMs, log) {
  const sups = [];
  for (let i = 0; i < args.instances; i++) {
    for (const variant of list)
      sups.push(await startSupervisor(variant, { heapOut: join(work, `heap-${variant.key}-${gapMs}-${i}.json`) }));
  }
  await sleep(args.settle * 1000);
  for (const sup of sups) {
    sup.marks.idle = memoryOf(sup.pid);
    sup.cpuAtIdle = cpuNs(sup.pid);
  }
  const began = Date.now();
  await Promise.all(
    sups
      .filter((sup) => sup.probePort)
      .map((sup) =>
        probeSequence(sup, args.count, gapMs, (n) => {
          // The highest RSS over the last PEAK_WINDOW probes before each checkpoint: the collection every 256
          // connections makes RSS a saw tooth, and a figure read at one point of it alone would depend on where.
          for (const mark of [args.checkpoint, args.count]) {
            if (n > mark - PEAK_WINDOW && n <= mark && (n % PEAK_EVERY === 0 || n === mark)) {
              sup.peaks[mark] = Math.max(sup.peaks[mark] ?? 0, memoryOf(sup.pid).rss);
            }
          }
          if (n === args.checkpoint || n === args.count) sup.marks[n] = memoryOf(sup.pid);
          if (n === args.count) sup.cpuPerProbeUs = (cpuNs(sup.pid) - sup.cpuAtIdle) / 1e3 / args.count;
          if (n % 20_000 === 0 && sup === sups.find((s) => s.probePort)) log(`  ${n} probes`);
        }),
      ),
  );
  const seconds = (Date.now() - began) / 1000;
  await sleep(args.idleAfter * 1000);
  for (const sup of sups) sup.marks.after = memoryOf(sup.pid);
  return { sups, seconds };
}

/** Probes over which the highest RSS before a checkpoint is taken, and how often RSS is read in that window. */
const PEAK_WINDOW = 512;
const PEAK_EVERY = 8;

/** Median over a variant's instances of (figure at `mark`) − (its own idle figure), or the idle figure itself. */
function memoryRow(sups, mark, field) {
  return median(sups.map((s) => (mark === 'idle' ? s.marks.idle[field] : s.marks[mark]?.[field] - s.marks.idle[field])));
}

async function stopAll(sups) {
  for (const sup of sups) await sup.stop();
  for (const sup of sups) sup.heap = sup.heapOut && existsSync(sup.heapOut) ? JSON.parse(readFileSync(sup.heapOut, 'utf8')) : undefined;
}

// ---------------------------------------------------------------- 2. CPU per probe
async function cpuRun(sups) {
  const perPath = new Map();
  for (let round = 0; round < args.rounds; round++) {
    for (const sup of sups) {
      for (const [path, req] of [
        ['/live', LIVE],
        ['/ready', READY],
      ]) {
        const before = cpuNs(sup.pid);
        for (let i = 0; i < args.cpuProbes; i++) if ((await probe(sup.probePort, req)) !== 200) throw new Error(`${path} failed`);
        const key = `${sup.variant.key} ${path}`;
        perPath.set(key, [...(perPath.get(key) ?? []), (cpuNs(sup.pid) - before) / 1e3 / args.cpuProbes]);
      }
    }
  }
  return (key, path) => median(perPath.get(`${key} ${path}`) ?? []);
}

// ---------------------------------------------------------------- 3. start-up
async function startupRun(list) {
  const tiersInCmd = { ...list.find((v) => v.key === 'shipped'), key: 'cmdFlag', flags: [...SUPERVISOR_NODE_FLAGS, '--max-opt=1'] };
  primeCompileCaches([tiersInCmd]);
  const cases = [
    ['off', list.find((v) => v.key === 'off'), false],
    ['offCmdFlag', tiersInCmd, false],
    ['shipped', list.find((v) => v.key === 'shipped'), true],
    ['before', list.find((v) => v.key === 'before'), true],
  ].filter(([, variant]) => variant);
  const times = new Map(cases.map(([key]) => [key, []]));
  for (let i = 0; i < args.startups; i++) {
    for (const [key, variant, probes] of i % 2 ? [...cases].reverse() : cases) {
      const sup = await startSupervisor(variant, { probes });
      times.get(key).push(sup.startupMs);
      await sup.stop();
    }
  }
  return { cases, median: (key) => median(times.get(key) ?? []) };
}

// ---------------------------------------------------------------- 4. exec probes, for context
/** CPU (ms, user+sys of everything the command ran) and wall time of one run, from bash's `times`. */
function execOnce(command, env = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', `${command} >/dev/null 2>&1; status=$?; times; exit $status`], {
    env: { ...ENV, ...env },
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  // times: line 2 = children's user and system time, e.g. "0m0.012s 0m0.004s"
  const children = result.stdout.trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { ok: result.status === 0, cpuMs: (seconds[0] + seconds[1]) * 1000, wallMs };
}

async function celeryWorld() {
  if (spawnSync('which', ['celery', 'redis-server']).status !== 0) return undefined;
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], {
    stdio: 'ignore',
    detached: true,
  });
  live.add(redis.pid);
  await sleep(500);
  const env = {
    ...ENV,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    PYTHONPATH: ROOT,
    CELERY_BROKER_URL: `redis://127.0.0.1:${port}/0`,
    C_FORCE_ROOT: '1',
  };
  const worker = spawn('celery', ['-A', 'scripts.run_eveai_workers', 'worker', '--concurrency=1', '--loglevel=WARNING'], {
    env,
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
    cwd: ROOT,
  });
  live.add(worker.pid);
  for (let i = 0; i < 60 && !execOnce('celery -A scripts.run_eveai_workers inspect ping --timeout 1', env).ok; i++) await sleep(500);
  return {
    env,
    async stop() {
      for (const p of [worker, redis]) {
        try {
          process.kill(-p.pid, 'SIGTERM');
        } catch {}
        await new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)));
        live.delete(p.pid);
      }
    },
  };
}

async function execRun(shipped) {
  const target = await startSupervisor(shipped);
  const port = target.probePort;
  const execs = [
    [
      'bash /dev/tcp + grep (compose_dev.yaml)',
      `bash -c "exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET /live HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q -m 1 '^HTTP/1.1 200 ' <&3"`,
    ],
    ['node -e http.get', `${NODE} -e "require('http').get('http://127.0.0.1:${port}/live',r=>process.exit(r.statusCode===200?0:1))"`],
    [
      'python3 -c urllib (the compose healthcheck before)',
      `python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/live', timeout=2)"`,
    ],
  ];
  const results = [];
  for (const [name, command] of execs) {
    const runs = [];
    for (let i = 0; i < args.execs; i++) runs.push(execOnce(command));
    if (!runs.every((r) => r.ok)) throw new Error(`${name} failed`);
    results.push({ name, cpuMs: median(runs.map((r) => r.cpuMs)), wallMs: median(runs.map((r) => r.wallMs)) });
  }
  await target.stop();
  const celery = await celeryWorld();
  if (celery) {
    const runs = [];
    for (let i = 0; i < Math.max(3, Math.floor(args.execs / 4)); i++)
      runs.push(execOnce('celery -A scripts.run_eveai_workers inspect ping --timeout 2', celery.env));
    await celery.stop();
    if (runs.every((r) => r.ok))
      results.push({
        name: 'celery inspect ping (Python + broker round trip, a real worker answers)',
        cpuMs: median(runs.map((r) => r.cpuMs)),
        wallMs: median(runs.map((r) => r.wallMs)),
      });
  }
  return results;
}

// ---------------------------------------------------------------- main
async function main() {
  const began = new Date();
  const t0 = Date.now();
  const log = (msg) => process.stderr.write(`[bench probes ${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const list = await variants();
  primeCompileCaches(list);
  const probed = list.filter((v) => v.probes !== false);

  log(`memory, full speed: ${args.instances} supervisors per variant, ${args.count} probes each`);
  const fast = await memoryRun(list, 0, log);
  log('CPU per probe on the full-speed supervisors');
  const cpuOf = await cpuRun(fast.sups.filter((s) => s.probePort));
  await stopAll(fast.sups);
  log(`memory, paced (${args.gap} ms between probes)`);
  const paced = await memoryRun(list, args.gap, log);
  await stopAll(paced.sups);
  log(`start-up: ${args.startups} runs per case`);
  const startup = await startupRun(list);
  log(`exec probes for context: ${args.execs} runs each`);
  const execs = await execRun(list.find((v) => v.key === 'shipped'));

  const of = (run, variant) => run.sups.filter((s) => s.variant === variant);
  const before = list.find((v) => v.key === 'before');
  const mib = (x) => `${fmt(x)} MiB`;
  const memoryTable = (run) => [
    `| variant | idle RSS (each instance) | +RSS after ${args.checkpoint}: peak (at ${args.checkpoint}) | +RSS after ${args.count}: peak (at ${args.count}) | ${args.checkpoint} → ${args.count}: peaks (at) | +RSS ${args.idleAfter} s later | +USS after ${args.count} | +PSS after ${args.count} | CPU per probe over the run |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...list.map((variant) => {
      const sups = of(run, variant);
      const idle = `${mib(memoryRow(sups, 'idle', 'rss'))} (${sups.map((s) => fmt(s.marks.idle.rss)).join(', ')})`;
      if (variant.probes === false) return `| ${variant.name} | ${idle} | | | | | | | |`;
      const d = (mark, field = 'rss') => memoryRow(sups, mark, field);
      const peak = (mark) => median(sups.map((s) => s.peaks[mark] - s.marks.idle.rss));
      const slow = median(sups.map((s) => s.marks[args.count]?.rss - s.marks[args.checkpoint]?.rss));
      const slowPeak = median(sups.map((s) => s.peaks[args.count] - s.peaks[args.checkpoint]));
      const cpu = median(sups.map((s) => s.cpuPerProbeUs));
      return `| ${variant.name} | ${idle} | ${signed(peak(args.checkpoint))} (${signed(d(args.checkpoint))}) | ${signed(peak(args.count))} (${signed(d(args.count))}) | ${signed(slowPeak)} (${signed(slow)}) | ${signed(d('after'))} | ${signed(d(args.count, 'uss'))} | ${signed(d(args.count, 'pss'))} | ${fmt(cpu / 1000, 3)} ms |`;
    }),
  ];
  const heapTable = (run) => {
    const spaces = ['new_space', 'old_space', 'code_space', 'trusted_space'];
    const of2 = (variant, f) => median(of(run, variant).map((s) => (s.heap ? f(s.heap) : NaN)));
    return [
      `| variant | ${spaces.join(' | ')} | V8 heap total | malloced by V8 |`,
      '|---|---|---|---|---|---|---|',
      ...list.map(
        (variant) =>
          `| ${variant.name} | ${spaces
            .map((s) =>
              fmt(
                of2(variant, (h) => (h.spaces[s] ?? 0) / 1048576),
                2,
              ),
            )
            .join(' | ')} | ${fmt(
            of2(variant, (h) => h.total / 1048576),
            2,
          )} | ${fmt(
            of2(variant, (h) => h.malloced / 1048576),
            2,
          )} |`,
      ),
    ];
  };
  const cpuRows = probed.map(
    (variant) =>
      `| ${variant.name} | ${fmt(cpuOf(variant.key, '/live') / 1000, 3)} ms | ${fmt(cpuOf(variant.key, '/ready') / 1000, 3)} ms | ${before ? ratio(cpuOf(variant.key, '/live'), cpuOf('before', '/live')) : '–'} | ${before ? ratio(cpuOf(variant.key, '/ready'), cpuOf('before', '/ready')) : '–'} |`,
  );
  const startupName = {
    off: 'no PROBE_PORT',
    offCmdFlag: 'no PROBE_PORT, `--max-opt=1` in the command line (optimizing compilers off from the start)',
    shipped: 'PROBE_PORT set',
    before: `PROBE_PORT set, before (${before?.rev})`,
  };

  const lines = [
    '# Probe endpoint cost',
    '',
    `Generated by \`${['node bench/probes.mjs', ...process.argv.slice(2)].join(' ')}\` (\`npm run bench\` runs it after run.mjs) on ${began.toISOString()} in ${((Date.now() - t0) / 60000).toFixed(0)} min. Do not edit: rerun.`,
    '',
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, Linux ${release()}; load average at start ${load} (shared machine: compare within a table, not across runs)`,
    `- node ${process.version}; supervisor ${relative(ROOT, join(ROOT, 'dist', 'supervisor.js'))} as built by build.mjs, run as the image runs it (\`node ${SUPERVISOR_NODE_FLAGS.join(' ')} supervisor.js\`, compile cache primed), ROLE=web with a stand-in \`gunicorn\` that sleeps; "before" is ${before ? `revision ${before.rev} built by its own build.mjs, run with its own flags (\`${before.flags.join(' ')}\`)` : 'missing'}`,
    `- each probe: a new TCP connection, a kubelet's request (\`GET /live\` twice for each \`GET /ready\`, which also connects to the program's port), the answer read until the server closes; ${args.instances} supervisors per variant and pace, started interleaved and probed at the same time, each by one sequential client; figures are medians over the instances, each against its own idle figure (${args.settle} s after start)`,
    `- "peak": the highest RSS read (every ${PEAK_EVERY} probes) over the last ${PEAK_WINDOW} probes before the checkpoint, the figure in parentheses the one read at it: the collection every 256 connections makes RSS a saw tooth. "CPU per probe over the run": the supervisor's CPU (all threads) from its idle figure to its last probe, divided by the probes: V8's collections and compiles included, at that pace`,
    '',
    '## Memory: full speed',
    '',
    `The next probe as soon as the last answer is read (${fmt(fast.seconds / 60, 0)} min for ${args.count} probes on each supervisor at once).`,
    '',
    ...memoryTable(fast),
    '',
    `## Memory: paced, ${args.gap} ms between probes`,
    '',
    `What a kubelet's pace means to the supervisor is that every probe finds it idle: the previous connection closed, V8's background compile and GC jobs done, the event loop waiting in epoll. ${args.gap} ms of idle between probes gives that and fits ${args.count} probes into ${fmt(paced.seconds / 60, 0)} minutes, where a kubelet (readiness every 2 s, liveness every 10 s) takes about two days. What it does not give is V8's memory reducer, which acts only after seconds without allocation: at a real pace it runs between most probes and can only shrink the heap further, so this row is the upper bound of that pace for what V8 keeps. The code V8 compiles depends on how often a function ran, not on the pace.`,
    '',
    ...memoryTable(paced),
    '',
    `## V8 heap after ${args.count} probes (MiB, read at exit)`,
    '',
    'The committed size of each space (and V8-internal malloc), median over the full-speed supervisors; "no PROBE_PORT" never answered a probe.',
    '',
    ...heapTable(fast),
    '',
    `## CPU per probe`,
    '',
    `The supervisor's CPU (all threads) over ${args.cpuProbes} sequential probes, on the full-speed supervisors after their ${args.count} probes (steady state: whatever V8 was going to compile, it has); median of ${args.rounds} rounds, variants interleaved. A kubelet httpGet probe costs this inside the container, and no process.`,
    '',
    `| variant | \`GET /live\` | \`GET /ready\` | /live vs before | /ready vs before |`,
    '|---|---|---|---|---|',
    ...cpuRows,
    '',
    '## Start-up',
    '',
    `Spawn to the \`child.spawn\` line, median of ${args.startups} runs each, interleaved.`,
    '',
    '| | start-up | vs no PROBE_PORT |',
    '|---|---|---|',
    ...startup.cases.map(
      ([key]) => `| ${startupName[key]} | ${fmt(startup.median(key), 1)} ms | ${ratio(startup.median(key), startup.median('off'))} |`,
    ),
    '',
    `## Exec probes, for comparison`,
    '',
    `A process per probe inside the container; median of ${args.execs} runs; the runtime's own exec machinery — runc exec per probe in Kubernetes — comes on top.`,
    '',
    '| exec probe | CPU per probe | wall time | CPU vs `GET /live` served |',
    '|---|---|---|---|',
    ...execs.map((e) => `| ${e.name} | ${fmt(e.cpuMs)} ms | ${fmt(e.wallMs)} ms | ${ratio(e.cpuMs, cpuOf('shipped', '/live') / 1000)} |`),
    '',
  ];
  writeFileSync(args.out, lines.join('\n'));
  log(`wrote ${args.out}`);
  process.stdout.write(lines.join('\n'));
}

function parseArgs(argv) {
  const quick = argv.includes('--quick');
  const out = {
    instances: 2,
    count: quick ? 12_000 : 100_000,
    checkpoint: quick ? 2000 : 10_000,
    gap: 5,
    settle: 20,
    idleAfter: 20,
    rounds: quick ? 2 : 5,
    cpuProbes: quick ? 500 : 2000,
    startups: quick ? 10 : 30,
    execs: quick ? 10 : 40,
    before: undefined,
    out: join(ROOT, 'bench', 'RESULTS-probes.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'quick') continue;
    if (!(key in out)) throw new Error(`unknown option ${argv[i]}`);
    out[key] = key === 'out' ? resolve(argv[++i]) : key === 'before' ? argv[++i] : Number(argv[++i]);
  }
  return out;
}

await main().finally(cleanup);
