// The stop soak: thousands of supervised starts, each stopped at a random moment of its life, with signal storms,
// repeated stops and (for part of the runs) every CPU kept busy, in one or more topologies (--topologies):
//   tini     the container as the image runs it: PID 1 of a PID namespace is the image's ENTRYPOINT (Dockerfile.base)
//   tini-g   the same tini with the migration plan's -g, kept so that what -g loses stays measured
//   plain    the supervisor alone, no PID namespace
// Under tini the clock starts the instant tini has blocked the signals it forwards (before that the kernel drops a
// signal to a namespace's PID 1: the pre-init window, bench/pre-init.mjs), and the stop comes at any moment from
// there: 15% within its first 3 ms (to the microsecond), the rest uniformly over 0–350 ms. Every run is checked
// against the supervisor's promise:
//   exit within the stop budget + 2 s of the first stop request (otherwise the stop was lost), no process of the run
//   left behind, `supervisor.exit` the last log line, and the exit code the README documents.
// Under tini-g a stop that tini dropped ("Child was dead when forwarding signal") is counted as lost, not failed.
// A failing run keeps its evidence in the output directory: the parameters, the log, and the /proc picture of the
// supervisor and of every process carrying the run's marker (taken before anything is killed).
//
//   node bench/soak.mjs [--runs N] [--topologies tini,tini-g,plain] [--concurrency C] [--seed S] [--load-share F]
//                       [--segment RUNS] [--out DIR] [--json]
//                       [--supervisor FILE]   (a copy of dist/supervisor.js, so a rebuild cannot change a long soak midway)
// `npm run soak` runs 10,000 under the image's entrypoint (about an hour on 2 busy cores); test/hostile/soak.test.ts
// runs a bounded one in every topology.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { cpus, tmpdir, constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { IMAGE_ENTRYPOINT, TINI_GROUP_ENTRYPOINT } from './image-entrypoint.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const PROGRAM = join(ROOT, 'bench', 'soak-program.sh');
const NODE = process.execPath;
const PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
/** The criterion's slack over the stop budget: a run not gone by then lost its stop. */
const SLACK_MS = 2000;
/** How long past budget + slack a run may still be waited for before its evidence is taken and it is killed. */
const EVIDENCE_AFTER_MS = 3000;
/** PID 1 of each namespaced topology. */
const INIT = { tini: IMAGE_ENTRYPOINT, 'tini-g': TINI_GROUP_ENTRYPOINT };

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    topologies: { type: 'string', default: 'tini' },
    concurrency: { type: 'string', default: '2' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    'load-share': { type: 'string', default: '0.5' },
    segment: { type: 'string', default: '100' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    supervisor: { type: 'string', default: join(ROOT, 'dist', 'supervisor.js') },
  },
});
const RUNS = Number(opts.runs);
const TOPOLOGIES = opts.topologies.split(',');
for (const t of TOPOLOGIES) if (t !== 'plain' && !INIT[t]) throw new Error(`--topologies: unknown ${t} (tini, tini-g, plain)`);
const CONCURRENCY = Number(opts.concurrency);
const SEED = Number(opts.seed);
const LOAD_SHARE = Number(opts['load-share']);
const SEGMENT = Number(opts.segment);
const SUPERVISOR = resolve(opts.supervisor);
const OUT = opts.out ?? mkdtempSync(join(tmpdir(), 'eveai-soak-'));
mkdirSync(OUT, { recursive: true });

// ---- deterministic randomness (mulberry32): a failing run can be replayed from the seed and its index ----
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (r, items) => items[Math.floor(r() * items.length)];
const chance = (r, p) => r() < p;
const uniform = (r, lo, hi) => lo + r() * (hi - lo);

// ---- the world: one bin directory with the fake program under every name a role runs ----
const BIN = join(OUT, 'bin');
mkdirSync(BIN, { recursive: true });
for (const name of ['gunicorn', 'celery', 'soak-program']) {
  if (!existsSync(join(BIN, name))) symlinkSync(PROGRAM, join(BIN, name));
}

/** Signals each role drops (a storm of them must change nothing), and the stop requests. */
const DROPPED = {
  web: [
    'SIGUSR2',
    'SIGWINCH',
    'SIGALRM',
    'SIGVTALRM',
    'SIGPROF',
    'SIGIO',
    'SIGURG',
    'SIGTSTP',
    'SIGCONT',
    'SIGPIPE',
    'SIGXCPU',
    'SIGXFSZ',
    'SIGSTKFLT',
  ],
  worker: [
    'SIGHUP',
    'SIGUSR2',
    'SIGWINCH',
    'SIGALRM',
    'SIGVTALRM',
    'SIGPROF',
    'SIGIO',
    'SIGURG',
    'SIGTSTP',
    'SIGCONT',
    'SIGPIPE',
    'SIGXCPU',
    'SIGXFSZ',
    'SIGTTIN',
  ],
  beat: [
    'SIGHUP',
    'SIGUSR1',
    'SIGUSR2',
    'SIGWINCH',
    'SIGALRM',
    'SIGVTALRM',
    'SIGPROF',
    'SIGIO',
    'SIGURG',
    'SIGTSTP',
    'SIGCONT',
    'SIGPIPE',
    'SIGXCPU',
  ],
  command: ['SIGTSTP', 'SIGCONT', 'SIGPIPE', 'SIGXCPU', 'SIGXFSZ', 'SIGURG', 'SIGTTIN', 'SIGTTOU', 'SIGSTKFLT'],
};
/** Stop requests, TERM most often; QUIT is one (the quick stop) except for a one-off command, which gets it as sent. */
const STOPS = {
  web: ['SIGTERM', 'SIGTERM', 'SIGTERM', 'SIGINT', 'SIGPWR', 'SIGQUIT'],
  worker: ['SIGTERM', 'SIGTERM', 'SIGTERM', 'SIGINT', 'SIGPWR', 'SIGQUIT'],
  beat: ['SIGTERM', 'SIGTERM', 'SIGTERM', 'SIGINT', 'SIGPWR', 'SIGQUIT'],
  command: ['SIGTERM', 'SIGTERM', 'SIGTERM', 'SIGINT', 'SIGPWR'],
};

/** One run's parameters, all drawn from the run's own generator. */
function planRun(index) {
  const r = rng(SEED * 100_003 + index);
  const role = pick(r, ['web', 'worker', 'beat', 'command']);
  const stopTimeout = Number(uniform(r, 0.1, 0.4).toFixed(2));
  const grace = Number(uniform(r, 0.05, 0.3).toFixed(2));
  const drainDelay = role === 'web' && chance(r, 0.5) ? Number(uniform(r, 0.05, 0.2).toFixed(2)) : 0;
  const program = {
    SOAK_START_S: chance(r, 0.6) ? uniform(r, 0.005, 0.08).toFixed(3) : '',
    SOAK_DRAIN_S: chance(r, 0.6) ? uniform(r, 0.01, 0.25).toFixed(3) : '',
    SOAK_IGNORE_TERM: chance(r, 0.25) ? '1' : '',
    SOAK_IGNORE_QUIT: chance(r, 0.2) ? '1' : '',
    SOAK_LIFE_S: chance(r, 0.3) ? uniform(r, 0.01, 0.25).toFixed(3) : '',
    SOAK_EXIT: String(pick(r, [0, 0, 1, 2, 42])),
    SOAK_GRANDCHILD: chance(r, 0.4) ? '1' : '',
  };
  // The moment of the stop: uniform over the life a run can have (boot, start-up, running, its own exit), and for
  // some runs within the first milliseconds after PID 1 took charge of its signals (before its child has run).
  const stopAtMs = chance(r, 0.15) ? Number(uniform(r, 0, 3).toFixed(3)) : Math.round(uniform(r, 0, 350));
  const stop = pick(r, STOPS[role]);
  const repeats = chance(r, 0.3)
    ? Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ signal: pick(r, STOPS[role]), afterMs: Math.round(uniform(r, 0, 700)) }))
    : [];
  const storm = chance(r, 0.25)
    ? { count: 20 + Math.floor(r() * 180), kinds: DROPPED[role], spanMs: Math.round(uniform(r, 50, 600)) }
    : undefined;
  return {
    index,
    topology: pick(r, TOPOLOGIES),
    role,
    settings: { STOP_TIMEOUT: String(stopTimeout), ESCALATION_GRACE: String(grace), DRAIN_DELAY: String(drainDelay) },
    program,
    stop,
    stopAtMs,
    repeats,
    storm,
    budgetMs: Math.round((drainDelay + stopTimeout + grace) * 1000),
  };
}

// ---- /proc ----
function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}
function childrenOf(pid) {
  const text = readProc(pid, `task/${pid}/children`);
  return text ? text.trim().split(/\s+/).filter(Boolean).map(Number) : [];
}
/**
 * Whether PID 1 is tini (named `name`: unshare's child has exec'd it) and has blocked the signals it forwards: SigBlk
 * has SIGTERM, or SigIgn has SIGTTOU, which tini ignores right after its sigprocmask(). SigBlk alone shows it only
 * between waits: while tini sleeps in sigtimedwait() the kernel reports the waited signals as unblocked (they stay
 * blocked in real_blocked: a signal then is queued). The name matters: before its exec, unshare's child has TERM
 * blocked too (inherited from unshare, which blocks INT and TERM around its fork), but unblocks it again before the
 * exec, and a TERM held until then is dropped like any other that reaches PID 1 with no handler.
 */
function tiniHasBlocked(pid, name) {
  const status = readProc(pid, 'status') ?? '';
  const field = (key) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(status)?.[1];
  const mask = (key) => BigInt(`0x${field(key) ?? '0'}`);
  return field('Name') === name && (((mask('SigBlk') >> 14n) & 1n) === 1n || ((mask('SigIgn') >> 21n) & 1n) === 1n);
}
function markedProcesses(marker) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readProc(entry, 'stat');
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
    if (readProc(entry, 'environ')?.includes(marker)) found.push(Number(entry));
  }
  return found;
}
/** Everything /proc says about a process that helps explain why it is still there. */
function picture(pid) {
  const threads = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      threads[tid] = {
        stat: readProc(pid, `task/${tid}/stat`),
        wchan: readProc(pid, `task/${tid}/wchan`),
        syscall: readProc(pid, `task/${tid}/syscall`),
        stack: readProc(pid, `task/${tid}/stack`),
      };
    }
  } catch {
    // gone
  }
  const status = readProc(pid, 'status');
  return {
    pid,
    cmdline: readProc(pid, 'cmdline')?.split('\0').join(' '),
    stat: readProc(pid, 'stat'),
    status: status
      ?.split('\n')
      .filter((l) => /^(State|PPid|NSpid|NSpgid|NSsid|Sig|Shd)/.test(l))
      .join('\n'),
    fds: (() => {
      try {
        return Object.fromEntries(
          readdirSync(`/proc/${pid}/fd`).map((fd) => [
            fd,
            (() => {
              try {
                return readlinkSync(`/proc/${pid}/fd/${fd}`);
              } catch {
                return '?';
              }
            })(),
          ]),
        );
      } catch {
        return undefined;
      }
    })(),
    threads,
  };
}

// ---- the load generator: one busy loop per CPU, started and stopped by this process only ----
let load = [];
function startLoad() {
  if (load.length) return;
  load = cpus().map(() => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
}
function stopLoad() {
  for (const busy of load) busy.kill('SIGKILL');
  load = [];
}
process.on('exit', stopLoad);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

// ---- one run ----
async function runOnce(plan, loaded) {
  const marker = `SOAK_MARK=${SEED}.${plan.index}.${process.pid}`;
  const env = {
    PATH: `${BIN}:${PATH}`,
    HOME: '/tmp',
    ROLE: plan.role === 'command' ? 'web' : plan.role,
    SUPERVISOR_LOG_LEVEL: 'info',
    SOAK_MARK: marker.split('=')[1],
    ...plan.settings,
    ...Object.fromEntries(Object.entries(plan.program).filter(([, v]) => v !== '')),
  };
  const namespaced = plan.topology !== 'plain';
  let argv = [NODE, SUPERVISOR, ...(plan.role === 'command' ? ['--', 'soak-program'] : [])];
  if (namespaced) argv = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...INIT[plan.topology], ...argv];
  const proc = spawn(argv[0], argv.slice(1), { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const closed = new Promise((done) => proc.on('close', (code, signal) => done({ code, signal, at: Date.now() })));
  let exited = false;
  proc.on('exit', () => (exited = true));

  // Under tini, time starts the instant tini has blocked the signals it forwards: before that the kernel drops a
  // signal to a namespace's PID 1 that has no handler for it, a property of PID 1 (README, "PID 1: tini-static,
  // without -g"), not of the supervisor. Polled once per event-loop turn, so the other lane keeps its own timing.
  let target = proc.pid;
  if (namespaced) {
    let tini;
    for (const giveUp = performance.now() + 10_000; !exited && performance.now() < giveUp; await nextTurn()) {
      tini ??= childrenOf(proc.pid)[0];
      if (tini !== undefined && tiniHasBlocked(tini, INIT[plan.topology][0].split('/').at(-1))) break;
    }
    target = tini ?? proc.pid;
  }
  const supervisorPid = () => (namespaced ? childrenOf(target)[0] : proc.pid);
  const startedAt = performance.now();
  const sent = [];
  const send = (signal, kind) => {
    if (exited) return;
    try {
      // Under tini, where the first stop found PID 1's child: not forked yet, still tini (before its exec), or node.
      const child = namespaced && kind === 'stop' ? childrenOf(target)[0] : undefined;
      const pid1Child = namespaced && kind === 'stop' ? (child === undefined ? 'none' : readProc(child, 'comm')?.trim()) : undefined;
      sent.push({ signal, kind, at: Date.now(), since: performance.now() - startedAt, pid1Child });
      process.kill(target, signal);
    } catch {
      // gone meanwhile
    }
  };

  const storm = plan.storm
    ? (async () => {
        // Only once the trap exists: before it, Node's own boot gives every signal its default action (README, Log).
        while (!exited && !stderr.includes('"eveai-supervisor"')) await sleep(2);
        const every = plan.storm.spanMs / plan.storm.count;
        for (let i = 0; i < plan.storm.count && !exited; i++) {
          send(plan.storm.kinds[i % plan.storm.kinds.length], 'storm');
          if (i % 10 === 9) await sleep(every * 10);
        }
      })()
    : Promise.resolve();
  if (plan.stopAtMs >= 3) await sleep(plan.stopAtMs);
  else while (performance.now() - startedAt < plan.stopAtMs); // to the microsecond: a timer cannot wait < 1 ms
  send(plan.stop, 'stop');
  const firstStop = sent.find((s) => s.kind === 'stop');
  const firstStopAt = firstStop?.at;
  const repeats = (async () => {
    for (const repeat of plan.repeats) {
      await sleep(repeat.afterMs);
      send(repeat.signal, 'repeat');
    }
  })();

  let hang;
  const deadline = new AbortController();
  const waitMs = plan.budgetMs + SLACK_MS + EVIDENCE_AFTER_MS;
  const ended = await Promise.race([closed, sleep(waitMs, undefined, { signal: deadline.signal }).catch(() => undefined)]);
  deadline.abort();
  let end = ended;
  if (!end) {
    // Evidence first, then the kill.
    const sup = supervisorPid();
    hang = {
      afterMs: waitMs,
      supervisor: sup && picture(sup),
      marked: markedProcesses(marker).map(picture),
      topology: proc.pid && picture(proc.pid),
      pid1: namespaced && target !== proc.pid ? picture(target) : undefined,
    };
    proc.kill('SIGKILL');
    if (namespaced)
      for (const pid of markedProcesses(marker))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
    end = await closed;
  }
  const left = markedProcesses(marker);
  const leftPictures = left.map(picture);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await Promise.all([storm, repeats]);
  const outcome = judge(plan, { end, stderr, sent, firstStopAt, sinceStartMs: firstStop?.since, left, hang });
  outcome.loaded = loaded;
  if (outcome.problems.length || outcome.lost) {
    // A failure's evidence, and a lost stop's under tini-g (counted, not failed), to read what tini said.
    const dir = join(OUT, `${outcome.problems.length ? 'failure' : 'lost'}-${plan.index}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ seed: SEED, plan, loaded, outcome, sent, end }, null, 2));
    writeFileSync(join(dir, 'stderr.log'), stderr);
    writeFileSync(join(dir, 'stdout.log'), stdout);
    writeFileSync(join(dir, 'proc.json'), JSON.stringify({ hang, left: leftPictures }, null, 2));
  }
  return outcome;
}

function parseLog(stderr) {
  const lines = [];
  for (const text of stderr.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text);
      if (line.name === 'eveai-supervisor') lines.push(line);
    } catch {
      // not one of ours
    }
  }
  return lines;
}

const signalNumber = (name) => constants.signals[name];
const STOP_NAMES = new Set(['SIGTERM', 'SIGINT', 'SIGPWR', 'SIGQUIT']);
/** A program killed this soon after the spawn by a signal tini passed to the group was hit in the fork-to-setsid window. */
const SPAWN_WINDOW_MS = 100;

/** The criteria, and the phase of the run's life the first stop request hit. */
function judge(plan, { end, stderr, sent, firstStopAt, sinceStartMs, left, hang }) {
  const problems = [];
  const findings = [];
  const lines = parseLog(stderr);
  // tini's own notices (e.g. "[WARN  tini (1)] Child was dead when forwarding signal") are PID 1's, not the supervisor's.
  const foreign = stderr
    .split('\n')
    .filter((t) => t && !(t.startsWith('{') && t.includes('"eveai-supervisor"')) && !/^\[(WARN|INFO|DEBUG) +tini \(/.test(t));
  const exitCode = end.code ?? (end.signal ? 128 + signalNumber(end.signal) : null);
  const tookMs = firstStopAt === undefined ? undefined : end.at - firstStopAt;
  const last = lines.at(-1);
  const timeOf = (event) => {
    const line = lines.find((l) => l.event === event);
    return line ? Date.parse(line.time) : undefined;
  };
  const childExit = lines.find((l) => l.event === 'child.exit');
  const stopReceived = lines.find((l) => l.event === 'signal.received' && STOP_NAMES.has(l.signal));

  const lost = hang !== undefined || (tookMs !== undefined && tookMs > plan.budgetMs + SLACK_MS);
  // tini's own notice when kill() fails with ESRCH (under -g: the group of its child did not exist yet); the
  // supervisor's config.advice about tini -g quotes it too, so only tini's line counts.
  const tiniDropped = /^\[WARN +tini \(\d+\)\] Child was dead when forwarding signal/m.test(stderr);
  if (left.length) problems.push(`processes left: ${left.join(',')}`);
  if (foreign.length) problems.push(`foreign stderr: ${foreign.slice(0, 3).join(' | ').slice(0, 300)}`);
  const pid1Child = sent.find((s) => s.kind === 'stop')?.pid1Child;
  const result = (phase, laterStates = []) => ({
    index: plan.index,
    topology: plan.topology,
    role: plan.role,
    phase,
    pid1Child,
    laterStates,
    exitCode,
    tookMs: hang ? undefined : tookMs,
    lost,
    tiniDropped,
    problems,
    findings,
    stopAtMs: plan.stopAtMs,
    sinceStartMs,
  });
  if (lost && plan.topology === 'tini-g' && tiniDropped) {
    // What the tini-g topology is there to count: the run was killed, so its log ends wherever it was.
    findings.push(`stop lost: tini -g dropped it (pid 1's child was ${pid1Child})`);
    return result('lost-by-tini-g');
  }
  if (hang) problems.push(`stop lost: no exit within ${hang.afterMs} ms of it (budget ${plan.budgetMs} + ${SLACK_MS} ms)`);
  else if (lost) problems.push(`exit ${tookMs} ms after the stop, budget ${plan.budgetMs} + ${SLACK_MS} ms`);

  let phase;
  if (lines.length === 0) {
    // Killed by the signal's default action during Node's own boot, before any JavaScript ran.
    // Killed by whichever stop request (first or repeated) reached it first: both came before any JavaScript ran.
    // Under tini the stop may also have come before tini's fork, or to its child before that exec'd node (the child
    // still carries tini's name and signal mask, and dies of the signal once it restores the default mask).
    const tiniName = INIT[plan.topology]?.[0].split('/').at(-1);
    phase = pid1Child === 'none' ? 'before-fork' : pid1Child === tiniName ? 'before-exec' : 'before-trap';
    const expected = [...new Set(sent.filter((s) => s.kind !== 'storm').map((s) => 128 + signalNumber(s.signal)))];
    if (!expected.includes(exitCode))
      problems.push(`no log line, exit ${exitCode}, expected one of ${expected} (killed before the trap by a signal sent)`);
    if (sent.find((s) => s.kind === 'stop') === undefined) problems.push('no log line although no stop was sent');
  } else {
    if (last?.event !== 'supervisor.exit') problems.push(`last line ${last?.event}`);
    else if (last.code !== exitCode) problems.push(`supervisor.exit code ${last.code}, exit status ${exitCode}`);
    const beforeStart = lines.some((l) => l.event === 'shutdown.before_start');
    if (beforeStart) {
      phase = 'before-spawn';
      const stopSignal = lines.find((l) => l.event === 'signal.received' && l.state === 'starting' && STOP_NAMES.has(l.signal))?.signal;
      if (lines.some((l) => l.event === 'child.spawn')) problems.push('child spawned after shutdown.before_start');
      if (exitCode !== 128 + signalNumber(stopSignal ?? plan.stop)) problems.push(`before_start exit ${exitCode}`);
    } else if (!childExit) {
      problems.push('no child.exit line');
      phase = 'unknown';
    } else {
      const expected = childExit.signal ? 128 + signalNumber(childExit.signal) : childExit.code;
      if (exitCode !== expected) problems.push(`exit ${exitCode}, child.exit says ${expected}`);
      // A signal the role drops must never reach the program, let alone kill it. One exception, counted apart: under
      // `tini -g` a signal tini passes to the supervisor's process group also reaches a program forked that instant and
      // not yet in a group of its own (libuv calls setsid() in the child before exec), and kills it before it ran.
      if (childExit.signal && plan.storm?.kinds.includes(childExit.signal)) {
        if (plan.topology === 'tini-g' && childExit.runtime_ms <= SPAWN_WINDOW_MS)
          findings.push(`spawn-window kill by ${childExit.signal} (${childExit.runtime_ms} ms)`);
        else problems.push(`the program died of ${childExit.signal}, which the role drops (after ${childExit.runtime_ms} ms)`);
      }
      const spawnAt = timeOf('child.spawn');
      const exitAt = Date.parse(childExit.time);
      const ownExit = plan.program.SOAK_LIFE_S !== '' && childExit.code === Number(plan.program.SOAK_EXIT) && childExit.signal === null;
      if (firstStopAt === undefined) phase = 'after-exit';
      else if (spawnAt !== undefined && firstStopAt < spawnAt) phase = 'during-spawn';
      else if (!stopReceived) phase = 'after-exit';
      else if (ownExit && Math.abs(exitAt - firstStopAt) <= 25) phase = 'leader-exit';
      else if (stopReceived.state === 'draining' || stopReceived.state === 'graceful')
        phase = exitAt <= Date.parse(stopReceived.time) ? 'group-drain' : 'drain';
      else if (stopReceived.state === 'hard' || stopReceived.state === 'killed') phase = 'hard-step';
      else if (childExit.signal === plan.stop || (childExit.signal === 'SIGTERM' && plan.stop !== 'SIGQUIT')) phase = 'program-start-up';
      else phase = 'running';
    }
  }
  // Which later moments the repeated stops and storms reached (a stop during drain or the hard step).
  const laterStates = lines
    .filter((l) => l.event === 'signal.received' && STOP_NAMES.has(l.signal))
    .slice(1)
    .map((l) => l.state);
  return result(phase, laterStates);
}

// ---- the soak ----
async function main() {
  const began = Date.now();
  const outcomes = [];
  let next = 0;
  let loadedNow = false;
  const segmentLoaded = (index) => rng(SEED + Math.floor(index / SEGMENT))() < LOAD_SHARE;
  const lane = async () => {
    while (next < RUNS) {
      const index = next++;
      const wantLoad = segmentLoaded(index);
      if (wantLoad !== loadedNow) {
        loadedNow = wantLoad;
        if (wantLoad) startLoad();
        else stopLoad();
      }
      const outcome = await runOnce(planRun(index), wantLoad);
      outcomes.push(outcome);
      appendFileSync(join(OUT, 'outcomes.jsonl'), `${JSON.stringify(outcome)}\n`); // every run, for figures the summary lacks
      if (outcome.problems.length)
        console.error(`FAIL run ${index}: ${outcome.problems.join('; ')} (evidence in ${join(OUT, `failure-${index}`)})`);
      if (outcomes.length % 250 === 0) {
        // A partial summary on disk: a soak stopped early still has its numbers.
        writeFileSync(join(OUT, 'summary.partial.json'), JSON.stringify(summarise(outcomes, Date.now() - began), null, 2));
        if (!opts.json)
          console.error(
            `${outcomes.length}/${RUNS} runs, ${outcomes.filter((o) => o.problems.length).length} failed, ${((Date.now() - began) / 1000).toFixed(0)} s`,
          );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  stopLoad();
  const summary = summarise(outcomes, Date.now() - began);
  writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(JSON.stringify(summary, null, 2));
  if (summary.failures === 0 && !existsSync(join(OUT, 'keep'))) rmSync(BIN, { recursive: true, force: true });
  process.exitCode = summary.failures === 0 ? 0 : 1;
}

function summarise(outcomes, ms) {
  const count = (items, key) => items.reduce((acc, o) => ((acc[key(o)] = (acc[key(o)] ?? 0) + 1), acc), {});
  const later = {};
  for (const o of outcomes) for (const s of o.laterStates) later[s] = (later[s] ?? 0) + 1;
  const worstOf = (items) => {
    const w = items.filter((o) => o.tookMs !== undefined).reduce((a, o) => (o.tookMs > (a?.tookMs ?? -1) ? o : a), undefined);
    return w && { ms: w.tookMs, index: w.index, phase: w.phase, role: w.role, topology: w.topology };
  };
  const histogram = {};
  for (const m of outcomes.filter((o) => o.sinceStartMs !== undefined).map((o) => o.sinceStartMs)) {
    const bucket = m < 3 ? '0-3ms' : `${Math.floor(m / 50) * 50}-${Math.floor(m / 50) * 50 + 49}ms`;
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  const topologies = {};
  for (const topology of [...new Set(outcomes.map((o) => o.topology))].sort()) {
    const mine = outcomes.filter((o) => o.topology === topology);
    topologies[topology] = {
      runs: mine.length,
      loaded: mine.filter((o) => o.loaded).length,
      failures: mine.filter((o) => o.problems.length).length,
      // Not out within the stop budget + 2 s of the first stop request.
      lostStops: mine.filter((o) => o.lost).length,
      // Runs whose tini reported a signal it could not deliver ("Child was dead when forwarding signal").
      tiniDroppedASignal: mine.filter((o) => o.tiniDropped).length,
      lostStopRuns: mine
        .filter((o) => o.lost)
        .slice(0, 50)
        .map((o) => ({
          index: o.index,
          sinceStartMs: o.sinceStartMs,
          pid1Child: o.pid1Child,
          tiniDropped: o.tiniDropped,
          loaded: o.loaded,
        })),
      stopsWithin3msOfStart: mine.filter((o) => o.sinceStartMs !== undefined && o.sinceStartMs < 3).length,
      phases: count(mine, (o) => o.phase),
      worstPassedStopToExitMs: worstOf(mine.filter((o) => o.problems.length === 0 && !o.lost)),
    };
  }
  return {
    seed: SEED,
    runs: outcomes.length,
    failures: outcomes.filter((o) => o.problems.length).length,
    failed: outcomes
      .filter((o) => o.problems.length)
      .slice(0, 50)
      .map((o) => ({ index: o.index, topology: o.topology, problems: o.problems })),
    topologies,
    spawnWindowKills: outcomes
      .flatMap((o) => o.findings.filter((f) => f.startsWith('spawn-window')).map((finding) => ({ index: o.index, role: o.role, finding })))
      .slice(0, 200),
    seconds: Math.round(ms / 1000),
    runsPerSecond: Number((outcomes.length / (ms / 1000)).toFixed(2)),
    byRole: count(outcomes, (o) => o.role),
    loaded: count(outcomes, (o) => (o.loaded ? 'loaded' : 'idle')),
    phases: count(outcomes, (o) => o.phase),
    repeatedStopStates: later,
    stopMomentHistogram: histogram,
    worstStopToExitMs: worstOf(outcomes),
    out: OUT,
  };
}

await main();
