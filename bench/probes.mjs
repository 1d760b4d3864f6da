#!/usr/bin/env node
// `npm run bench` (after run.mjs): what the probe endpoint costs, in one run, written to bench/RESULTS-probes.md.
//
//   node bench/probes.mjs [--instances N] [--probes N] [--execs N] [--settle SECONDS] [--idleAfter SECONDS] [--quick] [--out FILE]
//   defaults: --instances 4 --probes 2000 --execs 40 --settle 15 --idleAfter 25 (about 2 minutes); --quick: 2 / 300 / 10 / 12 / 15
//
//   1. resident memory of the supervisor (ROLE=web, a stand-in `gunicorn` that only sleeps), idle after start-up's
//      one GC, with probes off, with PROBE_PORT set, after it answered 300 and 3300 probes, and after an idle spell;
//   2. CPU per probe in the supervisor (all threads, /proc/PID/task/*/schedstat) over --probes sequential requests
//      each: /live, /live with a heartbeat file, /ready (which also connects to the program's port);
//   3. for context, what an exec probe costs in the container (a process per probe): CPU (user+sys of the probe's
//      processes, from bash's `times`) and wall time, median of --execs runs: bash /dev/tcp + grep (compose_dev.yaml),
//      a Node one-liner, Python's urllib (the compose healthcheck before probes), and `celery inspect ping`
//      (the usual Celery liveness check: a Python process and a broker round trip) against a real worker.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SUPERVISOR_NODE_FLAGS } from '../build.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
const NODE = process.execPath;
const args = parseArgs(process.argv.slice(2));

const work = mkdtempSync(join(tmpdir(), 'eveai-bench-probes-'));
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
const ENV = {
  PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  HOME: work,
  LANG: 'C.UTF-8',
  ROLE: 'web',
  NODE_COMPILE_CACHE: join(work, 'cc'),
};

/** A port the kernel picks as free right now. */
async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** One supervisor; `probe` adds PROBE_PORT (and PROBE_HEARTBEAT_FILE). The program's port gets a listener of ours. */
async function startSupervisor({ probe, heartbeat, flags = SUPERVISOR_NODE_FLAGS }) {
  const appPort = await freePort();
  const listener = net.createServer((s) => s.destroy());
  await new Promise((r) => listener.listen(appPort, '127.0.0.1', r));
  const env = { ...ENV, PORT: String(appPort) };
  if (probe) env.PROBE_PORT = String(await freePort());
  if (heartbeat) {
    env.PROBE_HEARTBEAT_FILE = join(work, `hb-${appPort}`);
    env.PROBE_HEARTBEAT_MAX_AGE = '3600';
  }
  const proc = spawn(NODE, [...flags, SUPERVISOR], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  live.add(proc.pid);
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const deadline = Date.now() + 20_000;
  while (!/"event":"child\.spawn"/.test(err)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`supervisor did not start:\n${err}`);
    await sleep(20);
  }
  if (heartbeat) closeSync(openSync(env.PROBE_HEARTBEAT_FILE, 'w'));
  return {
    pid: proc.pid,
    probePort: env.PROBE_PORT && Number(env.PROBE_PORT),
    async stop() {
      process.kill(proc.pid, 'SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      live.delete(proc.pid);
      listener.close();
    },
  };
}

const agent = new http.Agent({ keepAlive: false });
function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
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
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

// ---------------------------------------------------------------- exec probes, for context
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
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    cwd: ROOT,
  });
  live.add(worker.pid);
  let err = '';
  worker.stderr.setEncoding('utf8').on('data', (c) => (err += c));
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

// ---------------------------------------------------------------- main
async function main() {
  const began = new Date();
  const t0 = Date.now();
  const log = (msg) => process.stderr.write(`[bench probes ${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
  spawnSync(NODE, [SUPERVISOR, '--check'], { env: ENV }); // prime the compile cache, as the image does

  log(`memory: ${args.instances} supervisors each without and with PROBE_PORT, ${args.settle} s settle`);
  // 'unflagged': probes on, run without the image's Node flags (SUPERVISOR_NODE_FLAGS), to show what they buy.
  const kinds = SUPERVISOR_NODE_FLAGS.length > 0 ? ['off', 'on', 'unflagged'] : ['off', 'on'];
  const sups = [];
  for (let i = 0; i < args.instances; i++) {
    for (const kind of kinds)
      sups.push({ kind, sup: await startSupervisor({ probe: kind !== 'off', flags: kind === 'unflagged' ? [] : SUPERVISOR_NODE_FLAGS }) });
  }
  await sleep(args.settle * 1000);
  const memory = { off: [], on: [], unflagged: [], served: [], burst: [], after: [] };
  const unflagged = { served: [], burst: [], after: [] };
  for (const { kind, sup } of sups) memory[kind].push(memoryOf(sup.pid));

  log(`CPU per probe: ${args.probes} sequential requests per path`);
  const cpu = {};
  for (const { sup } of sups.filter((s) => s.kind === 'on').slice(0, 1)) {
    for (const path of ['/live', '/ready']) {
      for (let i = 0; i < 50; i++) await get(sup.probePort, path); // warm-up
      const before = cpuNs(sup.pid);
      const started = process.hrtime.bigint();
      for (let i = 0; i < args.probes; i++) if ((await get(sup.probePort, path)) !== 200) throw new Error(`${path} did not answer 200`);
      cpu[path] = {
        cpuUs: (cpuNs(sup.pid) - before) / 1e3 / args.probes,
        wallUs: Number(process.hrtime.bigint() - started) / 1e3 / args.probes,
      };
    }
  }
  const hb = await startSupervisor({ probe: true, heartbeat: true });
  await sleep(1500);
  for (let i = 0; i < 50; i++) await get(hb.probePort, '/live');
  const before = cpuNs(hb.pid);
  for (let i = 0; i < args.probes; i++)
    if ((await get(hb.probePort, '/live')) !== 200) throw new Error('/live with heartbeat did not answer 200');
  cpu['/live with heartbeat'] = { cpuUs: (cpuNs(hb.pid) - before) / 1e3 / args.probes };
  await hb.stop();
  // Memory once the endpoint has served: 300 probes back to back (its code and node:http warmed up), then 3000 more
  // (V8 grows its heap under a high allocation rate; a kubelet sends one probe every few seconds, so this is an upper
  // bound), then an idle spell (whether V8's memory reducer gives some back is V8's call).
  const on = sups.filter((s) => s.kind === 'on' && s.sup !== sups.find((x) => x.kind === 'on').sup);
  const plain = sups.filter((s) => s.kind === 'unflagged');
  const burst = async (count) => {
    for (const { sup } of [...on, ...plain]) for (let i = 0; i < count; i++) await get(sup.probePort, i % 2 ? '/live' : '/ready');
  };
  const measure = (step) => {
    for (const { sup } of on) memory[step].push(memoryOf(sup.pid));
    for (const { sup } of plain) unflagged[step].push(memoryOf(sup.pid));
  };
  await burst(300);
  await sleep(1000);
  measure('served');
  await burst(3000);
  measure('burst');
  log(`memory: ${args.idleAfter} s idle after the burst`);
  await sleep(args.idleAfter * 1000);
  measure('after');
  for (const { sup } of sups) await sup.stop();

  log(`exec probes for context: ${args.execs} runs each`);
  const target = await startSupervisor({ probe: true });
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
  const execResults = [];
  for (const [name, command] of execs) {
    const runs = [];
    for (let i = 0; i < args.execs; i++) runs.push(execOnce(command));
    if (!runs.every((r) => r.ok)) throw new Error(`${name} failed`);
    execResults.push({ name, cpuMs: median(runs.map((r) => r.cpuMs)), wallMs: median(runs.map((r) => r.wallMs)) });
  }
  await target.stop();
  const celery = await celeryWorld();
  if (celery) {
    const runs = [];
    for (let i = 0; i < Math.max(3, Math.floor(args.execs / 4)); i++)
      runs.push(execOnce('celery -A scripts.run_eveai_workers inspect ping --timeout 2', celery.env));
    await celery.stop();
    if (runs.every((r) => r.ok))
      execResults.push({
        name: 'celery inspect ping (Python + broker round trip, a real worker answers)',
        cpuMs: median(runs.map((r) => r.cpuMs)),
        wallMs: median(runs.map((r) => r.wallMs)),
      });
  }

  const med = (xs, k) => median(xs.map((m) => m[k]));
  const lines = [
    '# Probe endpoint cost',
    '',
    `Generated by \`${['node bench/probes.mjs', ...process.argv.slice(2)].join(' ')}\` (\`npm run bench\` runs it after run.mjs) on ${began.toISOString()} in ${((Date.now() - t0) / 1000).toFixed(0)} s. Do not edit: rerun.`,
    '',
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, Linux ${release()}; load average at start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (shared machine: compare ratios, not absolutes)`,
    `- node ${process.version} ${SUPERVISOR_NODE_FLAGS.join(' ')} (the image's CMD flags, build.mjs); supervisor ${relative(ROOT, SUPERVISOR)}, ROLE=web with a stand-in \`gunicorn\` that sleeps, compile cache primed; ${args.instances} instances per memory row, interleaved, measured after ${args.settle} s`,
    '',
    '## Resident memory of the supervisor',
    '',
    '| | RSS, median | PSS, median | vs probes off |',
    '|---|---|---|---|',
    `| probes off (no PROBE_PORT: nothing of them loaded) | ${fmt(med(memory.off, 'rss'), 1)} MiB | ${fmt(med(memory.off, 'pss'), 1)} MiB | 1.00× |`,
    `| PROBE_PORT set, idle | ${fmt(med(memory.on, 'rss'), 1)} MiB | ${fmt(med(memory.on, 'pss'), 1)} MiB | ${ratio(med(memory.on, 'rss'), med(memory.off, 'rss'))} (+${fmt(med(memory.on, 'rss') - med(memory.off, 'rss'), 1)} MiB) |`,
    ...[
      ['PROBE_PORT set, after 300 probes back to back', memory.served],
      ["… after 3000 more back to back (far above a kubelet's rate: V8 grows its heap)", memory.burst],
      [`… then ${args.idleAfter} s idle`, memory.after],
      ...(plain.length === 0
        ? []
        : [
            [`without ${SUPERVISOR_NODE_FLAGS.join(' ')}: PROBE_PORT set, idle`, memory.unflagged],
            ['… after 300 probes back to back', unflagged.served],
            ['… after 3000 more', unflagged.burst],
            [`… then ${args.idleAfter} s idle`, unflagged.after],
          ]),
    ].map(
      ([name, rows]) =>
        `| ${name} | ${fmt(med(rows, 'rss'), 1)} MiB | ${fmt(med(rows, 'pss'), 1)} MiB | ${ratio(med(rows, 'rss'), med(memory.off, 'rss'))} (+${fmt(med(rows, 'rss') - med(memory.off, 'rss'), 1)} MiB) |`,
    ),
    '',
    '## CPU per probe',
    '',
    `Served by the supervisor (what a kubelet httpGet probe costs inside the container: no process), ${args.probes} sequential requests each:`,
    '',
    '| probe | supervisor CPU per probe | round trip (client side) |',
    '|---|---|---|',
    ...Object.entries(cpu).map(
      ([path, c]) => `| \`GET ${path}\` | ${fmt(c.cpuUs / 1000, 3)} ms | ${c.wallUs ? `${fmt(c.wallUs / 1000, 3)} ms` : ''} |`,
    ),
    '',
    `Exec probes, for comparison (a process per probe inside the container; median of ${args.execs} runs; the runtime's own exec machinery — runc exec per probe in Kubernetes — comes on top):`,
    '',
    '| exec probe | CPU per probe | wall time | CPU vs `GET /live` served |',
    '|---|---|---|---|',
    ...execResults.map(
      (e) => `| ${e.name} | ${fmt(e.cpuMs, 1)} ms | ${fmt(e.wallMs, 1)} ms | ${ratio(e.cpuMs, cpu['/live'].cpuUs / 1000)} |`,
    ),
    '',
  ];
  writeFileSync(args.out, lines.join('\n'));
  log(`wrote ${args.out}`);
  process.stdout.write(lines.join('\n'));
}

function parseArgs(argv) {
  const quick = argv.includes('--quick');
  const out = {
    instances: quick ? 2 : 4,
    probes: quick ? 300 : 2000,
    execs: quick ? 10 : 40,
    settle: quick ? 12 : 15,
    idleAfter: quick ? 15 : 25,
    out: join(ROOT, 'bench', 'RESULTS-probes.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'quick') continue;
    if (!(key in out)) throw new Error(`unknown option ${argv[i]}`);
    out[key] = key === 'out' ? resolve(argv[++i]) : Number(argv[++i]);
  }
  return out;
}

await main().finally(cleanup);
