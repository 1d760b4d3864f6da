// Entry point: `node dist/supervisor.js [--help|--print|--check|--version] [-- CMD ARGS…]`.
// The signal trap is the first import so it runs before any dependency is evaluated.
import { routeSignals, takePendingSignals } from './signals/trap.js';
import { onExit } from 'signal-exit';
import { parseCli } from './cli.js';
import { createLogger, shown, type Logger } from './log.js';
import { EXIT, signalNumber } from './exit-codes.js';
import { loadPlan, type Plan } from './config/load.js';
import { describeSettings } from './config/common.js';
import { renderHelp } from './config/help.js';
import { findProgram } from './supervise/find-program.js';
import { supervise } from './supervise/supervise.js';
import { execProgram } from './supervise/exec.js';
import { sendToGroup } from './supervise/process-group.js';
import { StopTimeline, logStopSummary } from './supervise/stop-summary.js';
import type { ProbeServer } from './probes/server.js';

declare const __SUPERVISOR_VERSION__: string | undefined;
/** false only in a bench/ variant that measures what collectStartupGarbageOnce() buys. */
declare const __SUPERVISOR_STARTUP_GC__: boolean | undefined;
const VERSION = typeof __SUPERVISOR_VERSION__ === 'string' ? __SUPERVISOR_VERSION__ : 'dev';

/** The child's pid once spawned and until its group is known to be empty: the last-resort kill targets it. */
let liveGroup: number | undefined;

async function main(log: Logger): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  if (!cli.ok) {
    log.error({ event: 'usage.invalid', problem: cli.problem }, cli.problem);
    return EXIT.USAGE;
  }

  const loaded = loadPlan(process.env, cli.command);
  for (const { variable, intended } of loaded.nearMisses) {
    // The name only: the value of a variable we do not own may be a secret.
    log.warn({ event: 'config.near_miss', variable, did_you_mean: intended }, `${variable} is not a variable the supervisor reads; did you mean ${intended}?`);
  }
  if (loaded.ok) {
    for (const { variable, value, advice } of loaded.advice) {
      log.warn({ event: 'config.advice', variable, value: shown(value), advice }, `${variable}=${JSON.stringify(shown(value))} is valid, but use ${advice}`);
    }
  } else {
    for (const { variable, value, expected } of loaded.problems) {
      const given = shown(value);
      log.error({ event: 'config.invalid', variable, value: given, expected }, `${variable}=${JSON.stringify(given)}: expected ${expected}`);
    }
    return EXIT.CONFIG;
  }
  const { plan } = loaded;
  if (cli.mode === 'print') {
    process.stdout.write(`${JSON.stringify({ role: plan.role, argv: plan.argv, settings: describeSettings(plan.settings) })}\n`);
    return EXIT.OK;
  }
  if (cli.mode === 'check') {
    log.info({ event: 'config.valid', role: plan.role }, `configuration for ROLE=${plan.role} is valid`);
    return EXIT.OK;
  }
  return run(plan, log);
}

async function run(plan: Plan, log: Logger): Promise<number> {
  log.info(
    { event: 'supervisor.start', version: VERSION, role: plan.role, node: process.version, ...describeSettings(plan.settings) },
    `eveai-supervisor ${VERSION} starting ROLE=${plan.role}`,
  );
  warnAboutTopology(log);
  // Before the program starts, so a startup probe gets an answer ("starting") from the first second.
  let probes: ProbeServer | undefined;
  if (plan.settings.probePort !== undefined) {
    probes = await startProbes(plan, log);
    if (!probes) return EXIT.INTERNAL;
  }

  // A stop request that reached the supervisor before this point means the program is never started.
  for (const signal of await takePendingSignals()) {
    const rule = plan.policy.rules[signal];
    log.info({ event: 'signal.received', signal, action: rule.action, state: 'starting' }, `received ${signal} before the program started`);
    if (rule.action === 'stop' || rule.action === 'stop-now') {
      log.info({ event: 'shutdown.before_start' }, 'stop requested before the program started: not starting it');
      const timeline = new StopTimeline();
      timeline.requestedBy = signal;
      const exitCode = 128 + signalNumber(signal);
      logStopSummary(log, timeline, { programCode: null, programSignal: null, survivors: 0, escapees: 0, exitCode });
      return exitCode;
    }
    log.info({ event: 'signal.dropped', signal, why: 'the program had not started yet' }, `${signal} not passed on: the program had not started yet`);
  }

  const program = plan.argv[0] ?? '';
  const found = findProgram(program, process.env.PATH);
  if (!found.ok) {
    log.error({ event: 'child.spawn_failed', program, reason: found.reason, path: process.env.PATH ?? '' }, `cannot run ${program}: ${found.reason} (PATH=${process.env.PATH ?? ''})`);
    return found.exitCode;
  }
  if (plan.settings.mode === 'exec') execProgram(plan, found.path, log);

  return supervise(plan, found.path, log, {
    onSpawn: (pid) => {
      liveGroup = pid;
      collectStartupGarbageOnce();
      injectFaultForTests();
    },
    routeSignals,
    onRunning: (view) => probes?.attach(view),
  }).finally(() => {
    liveGroup = undefined;
  });
}

/** Loaded only when PROBE_PORT is set: without probes, neither their code nor node:http runs. undefined: not listening. */
async function startProbes(plan: Plan, log: Logger): Promise<ProbeServer | undefined> {
  const { startProbeServer } = await import('./probes/server.js');
  try {
    return await startProbeServer(plan, log);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.error({ event: 'probe.listen_failed', port: plan.settings.probePort, reason }, `cannot listen on PROBE_PORT ${plan.settings.probePort}: ${reason}; not starting the program`);
    return undefined;
  }
}

/** Late enough that the program's own start-up has the CPU first; well before anyone measures an idle container. */
const STARTUP_GC_DELAY_MS = 1000;

/**
 * One full garbage collection a second after the program started, then never again. Start-up allocations grow V8's
 * heap, which arms its memory reducer; with no GC after that, the reducer finds no allocation history to judge
 * by and wakes the process every 8 s forever, without ever collecting. One GC lets it finish its own (two GCs,
 * about 8 s later) and stop: an idle supervisor then costs no CPU, and ~2 MB less resident (bench/RESULTS.md).
 * Node exposes gc() only through --expose-gc, a flag that would cost start-up (it invalidates the code cache
 * Node embeds for its builtins), so it is switched on here, off the path to spawn. Best effort: never fatal.
 */
function collectStartupGarbageOnce(): void {
  if (typeof __SUPERVISOR_STARTUP_GC__ === 'boolean' && !__SUPERVISOR_STARTUP_GC__) return;
  setTimeout(() => {
    try {
      process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
      const gc = process.getBuiltinModule('node:vm').runInNewContext('gc') as (options?: object) => void;
      gc({ type: 'major', execution: 'sync' });
    } catch {
      // an optimisation only
    }
  }, STARTUP_GC_DELAY_MS).unref();
}

/**
 * Test-only: EVEAI_SUPERVISOR_INJECT_FAULT=after-spawn throws an uncaught error once the child runs, to prove
 * the internal-error path (group killed, exit 70, one JSON line). Not a documented variable; inert when unset.
 */
function injectFaultForTests(): void {
  if (process.env.EVEAI_SUPERVISOR_INJECT_FAULT === 'after-spawn') {
    setTimeout(() => {
      throw new Error('injected fault (EVEAI_SUPERVISOR_INJECT_FAULT=after-spawn)');
    }, 200);
  }
}

function warnAboutTopology(log: Logger): void {
  if (process.pid === 1) {
    log.warn({ event: 'supervisor.pid1' }, 'running as PID 1: orphaned processes will not be reaped; put tini in front (ENTRYPOINT ["/usr/bin/tini","-g","--"])');
  }
  if (process.getuid?.() === 0) {
    log.warn({ event: 'supervisor.root' }, 'running as root: the image runs as a non-root user; run as one unless root is really needed');
  }
}

/** Last resort on any exit path (a crash, an unhandled signal): nothing of the child's group outlives us. */
function killLiveGroup(): void {
  if (liveGroup === undefined) return;
  try {
    sendToGroup(liveGroup, 'SIGKILL');
  } catch {
    // nothing more can be done on the way out
  }
}

function exit(log: Logger, code: number): never {
  log.info({ event: 'supervisor.exit', code }, `exiting with code ${code}`);
  process.exit(code);
}

function start(): void {
  // --help and --version need no logger; an invalid command line (`--help --bogus`) goes on to main, which logs it.
  const cli = parseCli(process.argv.slice(2));
  if (cli.ok && cli.mode === 'help') {
    process.stdout.write(renderHelp(VERSION));
    return;
  }
  if (cli.ok && cli.mode === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  // Read before validation so config errors are logged at the requested level and format; an invalid value is
  // reported by validation.
  const log = createLogger((process.env.SUPERVISOR_LOG_LEVEL ?? 'info').toLowerCase(), (process.env.SUPERVISOR_LOG_FORMAT ?? 'auto').toLowerCase());
  const fail = (error: unknown) => {
    killLiveGroup(); // first: whatever else fails on the way out, nothing of the program outlives the supervisor
    const err = error instanceof Error ? error : new Error(String(error));
    log.fatal({ event: 'supervisor.error', error: err.message, stack: err.stack }, `internal error: ${err.message}`);
    exit(log, EXIT.INTERNAL);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  onExit(killLiveGroup, { alwaysLast: true });
  main(log).then((code) => exit(log, code), fail);
}

start();
