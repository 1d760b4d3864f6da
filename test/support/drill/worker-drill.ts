/**
 * The worker half of the deploy drill (issue 16): two worker replicas started as the image starts them
 * (test/support/real/container.ts), a real Redis as broker and result backend, a steady task stream, and rolling
 * replacements the way a Deployment rolls: start a new replica, wait until it consumes, SIGTERM to the oldest
 * replica's PID 1, wait for its exit. Every task records each start and end itself (the example app's run log), so
 * tasks that never finished and tasks that ran twice are counted by id. Used by bench/drill/worker.measure.ts (the
 * full drill) and test/drill/worker.test.ts (a few rolls, asserted).
 */
import { Container, type Runner } from '../real/container.js';
import { QUEUE, unackedTaskIds, queuedTaskIds } from '../real/celery.js';
import { RedisServer } from '../real/redis.js';
import type { VersionSet } from '../real/versions.js';
import { procPicture } from '../proc.js';
import { settlesWithin, sleep, waitFor } from '../wait.js';
import { readRunLog, resultStates, RUNS_KEY, type RunRecord } from './run-log.js';
import { TaskProducer } from './task-producer.js';

/** How the app acknowledges: celery's defaults (on receipt), or acks_late + task_reject_on_worker_lost. */
export type AckMode = 'defaults' | 'acks_late';

export interface WorkerDrillOptions {
  versions: VersionSet;
  runner: Runner;
  mode: AckMode;
  rolls: number;
  /** Tasks per second of the stream (each 0.1–1.5 s). */
  rate?: number;
  /** Extra variables for every replica (e.g. STOP_TIMEOUT). */
  env?: Record<string, string>;
  /** Varies the stream's durations between drills. */
  seed?: number;
}

export interface Roll {
  /** Epoch ms of the SIGTERM to the old replica's PID 1 and of its exit. */
  signalledAt: number;
  exitedAt: number;
  /** From the SIGTERM to the old replica's PID 1 until it exited. */
  stopMs: number;
  /** From starting the new replica until the old one exited: what one step of a rolling deploy takes. */
  rollMs: number;
  exitCode: number;
  /** The supervisor's escalation steps (shutdown.escalate signals), empty when the warm shutdown ended by itself. */
  escalated: string[];
  /** The supervisor found the warm shutdown stuck with no task running (shutdown.stuck) and took the hard step early. */
  stuck: boolean;
  /** From the end of the old replica's last task (or the SIGTERM, when later) until it exited. */
  afterLastTaskMs: number;
  /** Tasks of the old replica still running when it got SIGTERM. */
  runningAtStop: number;
  /** Messages the old replica put back in the queue ("Restoring N unacknowledged message(s)"). */
  restored: number;
  /** The drill had to play the kubelet: SIGKILL to PID 1 at the end of terminationGracePeriodSeconds. */
  kubeletKilled: boolean;
  /** /proc of the old replica's processes when its stop had outlived its last task by HANG_MS (a hang), else undefined. */
  hangPicture: string | undefined;
}

export interface WorkerDrillResult {
  versions: string;
  runner: Runner;
  mode: AckMode;
  sent: number;
  /** Tasks with no recorded end: never completed. */
  lost: string[];
  /** Tasks started more than once. */
  duplicated: string[];
  /** Tasks the result backend holds as FAILURE (WorkerLostError when a pool child was killed). */
  failed: string[];
  /** Lost tasks whose message sits in kombu's unacked hash: they run again only after the visibility timeout (1 h). */
  unacked: string[];
  /**
   * Lost tasks no replica ever received (no "Task …[id] received" line in any replica's log): popped from the queue
   * by a replica that never read the answer (kombu < 5.3 closes a connection with a BRPOP pending, kombu PR #1733).
   */
  neverReceived: string[];
  /** Lost tasks published while a replica was stopping (between its SIGTERM and its exit). */
  lostDuringStop: number;
  rolls: Roll[];
  /** From the first roll's start to the last roll's end. */
  deployMs: number;
}

/** terminationGracePeriodSeconds (Kubernetes' default): the drill SIGKILLs a replica's PID 1 after it, as the kubelet does. */
export const GRACE_MS = 30_000;
/** A stop that outlives the replica's last task by this much is a hang: the drill photographs its /proc then. */
export const HANG_MS = 8000;

const TASK_SECONDS = { min: 0.1, max: 1.5 };

class Replicas {
  private next = 1;
  readonly live: Container[] = [];
  /** Every replica started, stopped ones included: their logs tell which tasks they received. */
  readonly all: Container[] = [];

  constructor(
    private readonly options: WorkerDrillOptions,
    private readonly redis: RedisServer,
  ) {}

  /** HOSTNAME of a replica: what the run log names it by (the pod name under Kubernetes). */
  static hostname(container: Container): string {
    return container.options.env.HOSTNAME!;
  }

  async start(): Promise<Container> {
    const { versions, runner, mode } = this.options;
    const hostname = `${versions.name}-${runner === 'supervisor' ? 'sup' : 'sh'}-${mode}-w${this.next++}`;
    const container = await Container.start({
      name: `drill-${hostname}`,
      runner,
      versions,
      env: { ROLE: 'worker', CELERY_BROKER_URL: this.redis.url, TASK_RUNS_KEY: RUNS_KEY, HOSTNAME: hostname, ...this.options.env },
    });
    this.live.push(container);
    this.all.push(container);
    return container;
  }

  oldest(): Container {
    return this.live[0]!;
  }

  forget(container: Container): void {
    this.live.splice(this.live.indexOf(container), 1);
  }
}

/** Resolves once `replica` has started a task of the stream (it consumes). */
async function untilConsuming(redis: RedisServer, replica: Container): Promise<void> {
  const hostname = Replicas.hostname(replica);
  await waitFor(
    `${replica.options.name}: its first task`,
    async () => {
      if (!replica.running) throw new Error(`${replica.options.name} exited before it consumed; log ${replica.logFile}`);
      return (await readRunLog(redis)).some((r) => r.event === 'start' && r.replica === hostname);
    },
    90_000,
    100,
  );
}

/** Ids started by `hostname` that have no end yet, by the run log. */
function runningOn(records: RunRecord[], hostname: string): string[] {
  const ended = new Set(records.filter((r) => r.event === 'end').map((r) => r.id));
  return records.filter((r) => r.event === 'start' && r.replica === hostname && !ended.has(r.id)).map((r) => r.id);
}

/** SIGTERM to the replica's PID 1, then what its stop did; SIGKILL to PID 1 after GRACE_MS, as the kubelet. */
async function stopReplica(redis: RedisServer, replica: Container, rollStartedAt: number): Promise<Roll> {
  const hostname = Replicas.hostname(replica);
  const runningAtStop = runningOn(await readRunLog(redis), hostname).length;
  const signalledAt = Date.now();
  replica.signal('SIGTERM');
  let hangPicture: string | undefined;
  // Watch the stop: when it outlives the replica's last task by HANG_MS, photograph its processes (once).
  const watch = (async () => {
    while (replica.running && hangPicture === undefined && Date.now() - signalledAt < GRACE_MS) {
      await sleep(250);
      const records = await readRunLog(redis);
      if (runningOn(records, hostname).length > 0) continue;
      const lastEnd = Math.max(signalledAt, ...records.filter((r) => r.replica === hostname && r.event === 'end').map((r) => r.at * 1000));
      if (Date.now() - lastEnd >= HANG_MS && replica.running) {
        hangPicture = replica
          .members()
          .map((p) => procPicture(p.pid))
          .join('\n');
      }
    }
  })();
  let kubeletKilled = false;
  if (!(await settlesWithin(replica.exited, GRACE_MS))) {
    kubeletKilled = true;
    replica.killPid1();
  }
  const exit = await replica.waitExit(10_000);
  const exitedAt = signalledAt + (exit.stopMs ?? Date.now() - signalledAt);
  await watch;
  const records = await readRunLog(redis);
  const lastEnd = Math.max(signalledAt, ...records.filter((r) => r.replica === hostname && r.event === 'end').map((r) => r.at * 1000));
  const restored = [...replica.output.matchAll(/Restoring (\d+) unacknowledged message/g)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    signalledAt,
    exitedAt,
    stopMs: exitedAt - signalledAt,
    rollMs: exitedAt - rollStartedAt,
    exitCode: exit.code,
    escalated: replica
      .events()
      .filter((e) => e.event === 'shutdown.escalate')
      .map((e) => String(e.signal)),
    stuck: replica.events().some((e) => e.event === 'shutdown.stuck'),
    afterLastTaskMs: exitedAt - lastEnd,
    runningAtStop,
    restored,
    kubeletKilled,
    hangPicture,
  };
}

/**
 * Waits until every sent task finished, or nothing more will run: the queue is empty, no live replica runs a task,
 * and the run log has not grown for QUIET_MS (longer than any task, so a message a live replica holds has started).
 */
async function drain(redis: RedisServer, ids: readonly string[], live: readonly string[], timeoutMs: number): Promise<void> {
  const QUIET_MS = 5000;
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const records = await readRunLog(redis);
    if (records.length !== seen) [seen, quietSince] = [records.length, Date.now()];
    const ended = new Set(records.filter((r) => r.event === 'end').map((r) => r.id));
    const open = ids.filter((id) => !ended.has(id));
    if (open.length === 0) return;
    const running = live.some((hostname) => runningOn(records, hostname).length > 0);
    const queued = Number(await redis.command('LLEN', QUEUE));
    if (!running && queued === 0 && Date.now() - quietSince >= QUIET_MS) return;
    await sleep(250);
  }
}

export async function runWorkerDrill(options: WorkerDrillOptions): Promise<WorkerDrillResult> {
  await using redis = await RedisServer.start(options.versions);
  const replicas = new Replicas(options, redis);
  const first = await Promise.all([replicas.start(), replicas.start()]);
  await Promise.all(first.map((replica) => replica.waitOutput(/celery@\S+ ready\./, 90_000)));
  const producer = TaskProducer.start(redis, {
    task: options.mode === 'acks_late' ? 'slow' : 'plain_slow',
    rate: options.rate ?? 2.5,
    // Bounded by itself: enough for the drill at its rate, with every roll taking the whole grace period.
    maxTasks: Math.ceil((options.rate ?? 2.5) * (60 + options.rolls * (GRACE_MS / 1000 + 30))),
    minSeconds: TASK_SECONDS.min,
    maxSeconds: TASK_SECONDS.max,
    seed: options.seed ?? 16,
  });
  await Promise.all(first.map((replica) => untilConsuming(redis, replica)));

  const rolls: Roll[] = [];
  const deployStartedAt = Date.now();
  for (let i = 0; i < options.rolls; i++) {
    const rollStartedAt = Date.now();
    const fresh = await replicas.start();
    await fresh.waitOutput(/celery@\S+ ready\./, 90_000);
    await untilConsuming(redis, fresh);
    const old = replicas.oldest();
    replicas.forget(old);
    rolls.push(await stopReplica(redis, old, rollStartedAt));
  }
  const deployMs = Date.now() - deployStartedAt;

  await producer.stop();
  const ids = [...producer.ids];
  await drain(redis, ids, replicas.live.map(Replicas.hostname), 120_000);
  for (const replica of [...replicas.live]) {
    replicas.forget(replica);
    await stopReplica(redis, replica, Date.now());
  }
  const counts = await tally(redis, ids);
  const received = new Set(
    replicas.all.flatMap((replica) => [...replica.output.matchAll(/Task \S+\[([0-9a-f-]{36})\] received/g)].map((m) => m[1]!)),
  );
  const stopping = (at: number) => rolls.some((roll) => at >= roll.signalledAt && at <= roll.exitedAt);
  return {
    ...counts,
    neverReceived: counts.lost.filter((id) => !received.has(id)),
    lostDuringStop: counts.lost.filter((id) => stopping(producer.sentAt.get(id) ?? 0)).length,
    versions: options.versions.name,
    runner: options.runner,
    mode: options.mode,
    rolls,
    deployMs,
  };
}

/** Counts by id, from the run log and the result backend, once every replica is gone. */
async function tally(
  redis: RedisServer,
  ids: string[],
): Promise<Pick<WorkerDrillResult, 'sent' | 'lost' | 'duplicated' | 'failed' | 'unacked'>> {
  const records = await readRunLog(redis);
  const starts = new Map<string, number>();
  const ended = new Set<string>();
  for (const record of records) {
    if (record.event === 'start') starts.set(record.id, (starts.get(record.id) ?? 0) + 1);
    if (record.event === 'end') ended.add(record.id);
  }
  const states = await resultStates(redis, ids);
  const unackedIds = new Set(await unackedTaskIds(redis));
  const queued = new Set(await queuedTaskIds(redis));
  const lost = ids.filter((id) => !ended.has(id));
  if (lost.some((id) => queued.has(id))) throw new Error(`tasks still queued after the drill: the drain did not wait long enough`);
  return {
    sent: ids.length,
    lost,
    duplicated: ids.filter((id) => (starts.get(id) ?? 0) > 1),
    failed: ids.filter((_, i) => states[i] === 'FAILURE'),
    unacked: lost.filter((id) => unackedIds.has(id)),
  };
}
