// The pre-init window of the container's PID 1: from the moment PID 1 exists (unshare's fork: from here a runtime
// could signal it) and from its exec of tini, to tini's sigprocmask() that blocks the signals it waits for. Before
// that, a stop signal from outside the PID namespace to a PID 1 with no handler for it is dropped by the kernel: no
// init can catch what arrives before it runs. Measured for Debian's `tini` (dynamically linked) and `tini-static`,
// each with the image's ENTRYPOINT arguments (Dockerfile.base), idle and with every CPU busy, interleaved.
//
// The times are the kernel's own (perf tracepoints sched_process_fork, sched_process_exec, the exit of
// rt_sigprocmask), so no observer competes with tini for a CPU: tini's first rt_sigprocmask after its exec is its
// block (strace shows nothing before it in either build). Needs root and perf (Debian: linux-perf).
//
//   node bench/pre-init.mjs [--runs N] [--segment N] [--out FILE]      (about a minute)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IMAGE_ENTRYPOINT } from './image-entrypoint.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '400' },
    segment: { type: 'string', default: '25' },
    out: { type: 'string', default: join(ROOT, 'bench', 'RESULTS-pre-init.md') },
    collect: { type: 'string' }, // internal: the sampler perf records, writing its samples here
  },
});
const RUNS = Number(opts.runs);
const SEGMENT = Number(opts.segment);

/** The image's ENTRYPOINT with its binary swapped: `tini` and `tini-static` (Debian's tini package ships both). */
const [imageInit, ...initArgs] = IMAGE_ENTRYPOINT;
const dir = imageInit.slice(0, imageInit.lastIndexOf('/') + 1);
const VARIANTS = ['tini', 'tini-static'].map((name) => ({ name, argv: [`${dir}${name}`, ...initArgs] }));
const TOPOLOGY = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc'];
const PROGRAM = ['true'];

if (opts.collect) collect(opts.collect);
else report();

/** Runs every sample (rounds of both binaries in a random order; segments alternate idle and loaded). */
function collect(file) {
  let load = [];
  const samples = [];
  for (let round = 0; round < RUNS; round++) {
    const loaded = Math.floor(round / SEGMENT) % 2 === 1;
    if (loaded && load.length === 0) {
      load = cpus().map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // the busy loops run before the first sample
    }
    if (!loaded && load.length > 0) load = load.filter((busy) => busy.kill('SIGKILL') && false);
    for (const variant of [...VARIANTS].sort(() => Math.random() - 0.5)) {
      const r = spawnSync(TOPOLOGY[0], [...TOPOLOGY.slice(1), ...variant.argv, ...PROGRAM], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${variant.name}: exit ${r.status ?? r.signal}`);
      samples.push({ variant: variant.name, loaded, unshare: r.pid });
    }
  }
  for (const busy of load) busy.kill('SIGKILL');
  writeFileSync(file, JSON.stringify(samples));
}

function report() {
  const work = mkdtempSync(join(tmpdir(), 'eveai-pre-init-'));
  try {
    const data = join(work, 'perf.data');
    const sampleFile = join(work, 'samples.json');
    const events = ['sched:sched_process_fork', 'sched:sched_process_exec', 'syscalls:sys_exit_rt_sigprocmask'];
    const sampler = [process.execPath, import.meta.filename, '--collect', sampleFile, '--runs', String(RUNS), '--segment', String(SEGMENT)];
    const rec = spawnSync('perf', ['record', '-q', '-o', data, ...events.flatMap((e) => ['-e', e]), '--', ...sampler], {
      stdio: 'inherit',
    });
    if (rec.status !== 0) throw new Error(`perf record exited ${rec.status ?? rec.signal} (needs root and linux-perf)`);
    const script = spawnSync('perf', ['script', '-i', data, '--ns', '-F', 'pid,time,event,trace'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (script.status !== 0) throw new Error(`perf script: ${script.stderr}`);
    const measured = windows(JSON.parse(readFileSync(sampleFile, 'utf8')), script.stdout);
    const text = render(measured);
    writeFileSync(opts.out, text);
    process.stdout.write(text);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Per sample: unshare's fork of PID 1, PID 1's exec, and its first rt_sigprocmask after the exec (seconds). */
function windows(samples, trace) {
  const forkOf = new Map(); // unshare pid -> { child, at }
  const execOf = new Map(); // pid -> at
  const blockOf = new Map(); // pid -> at (first rt_sigprocmask exit after the exec)
  for (const line of trace.split('\n')) {
    const m = /^\s*(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, time, event, rest] = m;
    const at = Number(time);
    if (event === 'sched:sched_process_fork') {
      const f = /pid=(\d+) child_comm=\S* child_pid=(\d+)/.exec(rest);
      if (f && !forkOf.has(Number(f[1]))) forkOf.set(Number(f[1]), { child: Number(f[2]), at });
    } else if (event === 'sched:sched_process_exec') {
      if (!execOf.has(Number(pid)) && /filename=\S*tini/.test(rest)) execOf.set(Number(pid), at);
    } else if (event === 'syscalls:sys_exit_rt_sigprocmask') {
      if (execOf.has(Number(pid)) && !blockOf.has(Number(pid))) blockOf.set(Number(pid), at);
    }
  }
  return samples.map((s) => {
    const fork = forkOf.get(s.unshare);
    const exec = fork && execOf.get(fork.child);
    const block = fork && blockOf.get(fork.child);
    if (!fork || exec === undefined || block === undefined) throw new Error(`sample ${JSON.stringify(s)}: events missing in the trace`);
    return { ...s, appearToExec: exec - fork.at, execToBlock: block - exec, appearToBlock: block - fork.at };
  });
}

function render(measured) {
  const quantile = (values, q) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  };
  const ms = (s) => (s * 1000).toFixed(3);
  const of = (condition, variant, field) =>
    measured.filter((s) => s.variant === variant && s.loaded === (condition === 'loaded')).map((s) => s[field]);
  const cells = (values) =>
    [0.5, 0.9, 0.99]
      .map((q) => ms(quantile(values, q)))
      .concat(ms(Math.max(...values)))
      .join(' | ');
  const version = spawnSync(VARIANTS[0].argv[0], ['--version'], { encoding: 'utf8' }).stdout.trim();
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const lines = [
    '# The pre-init window of PID 1: tini vs tini-static',
    '',
    `\`node bench/pre-init.mjs --runs ${RUNS} --segment ${SEGMENT}\`: ${version}, Linux ${kernel}, ${cpus().length} CPUs. ${RUNS} rounds, each`,
    `starting both binaries in a random order as \`${TOPOLOGY.join(' ')} <init> ${initArgs.join(' ')} ${PROGRAM.join(' ')}\``,
    `(<init>: the image's ENTRYPOINT binary, ${imageInit}, or its sibling), in segments of ${SEGMENT} rounds alternating idle`,
    'and loaded (one `while :; do :; done` per CPU). Kernel timestamps (perf): **appear** = unshare forks PID 1 (a runtime',
    "could signal it from here), **exec** = PID 1 execs the init, **blocked** = the init's first rt_sigprocmask returns.",
    'Until then a signal from outside the namespace to PID 1 with no handler for it is dropped. Milliseconds.',
    '',
    '| condition | init | exec → blocked: median | p90 | p99 | max | appear → blocked: median | p90 | p99 | max |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const condition of ['idle', 'loaded'])
    for (const { name } of VARIANTS)
      lines.push(
        `| ${condition} | ${name} | ${cells(of(condition, name, 'execToBlock'))} | ${cells(of(condition, name, 'appearToBlock'))} |`,
      );
  lines.push('');
  for (const condition of ['idle', 'loaded']) {
    const median = (name, field) => quantile(of(condition, name, field), 0.5);
    lines.push(
      `- ${condition}: tini-static's exec → blocked median is ${(median('tini-static', 'execToBlock') / median('tini', 'execToBlock')).toFixed(2)}× ` +
        `tini's (p99 ${(quantile(of(condition, 'tini-static', 'execToBlock'), 0.99) / quantile(of(condition, 'tini', 'execToBlock'), 0.99)).toFixed(2)}×); ` +
        `appear → exec (unshare's own work before its exec, the same program for both) median ${ms(median('tini', 'appearToExec'))} / ` +
        `${ms(median('tini-static', 'appearToExec'))} ms.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
