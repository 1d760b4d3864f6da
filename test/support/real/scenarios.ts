/**
 * The stop scenarios, written once and run with either runner (the supervisor, or the migration plan's
 * start.sh). Each returns what it observed; the test files decide what is asserted and what is only
 * recorded (the baseline's numbers are facts, not failures).
 */
import { type Proc, stillAlive } from '../proc.js';
import { sleep, waitFor } from '../wait.js';
import { countFates, QUEUE, sendSlowTasks, type SlowTask, type TaskFate, taskFates, taskState } from './celery.js';
import { Container, type ExitInfo, type LogEvent, type Runner } from './container.js';
import { freePort, get, type HttpResult, newConnection } from '../http.js';
import { RedisServer } from './redis.js';
import { BOOKWORM, type VersionSet } from './versions.js';

export interface StopObservation {
  runner: Runner;
  exit: ExitInfo;
  /** Processes of the container (tini excluded) just before the stop signal... */
  before: Proc[];
  /** ...and those of them still alive once the container has exited (must be none). */
  aliveAfter: Proc[];
  events: LogEvent[];
  /** Set when the test had to play the kubelet: SIGKILL to PID 1 at the end of the grace period. */
  kubeletKilled: boolean;
  container: Container;
}

export interface WebObservation extends StopObservation {
  responses: HttpResult[];
  /** What a new client saw 0.3 s after the stop signal (gunicorn may still accept for up to 1 s)... */
  newConnectionEarly: string;
  /** ...and 2 s after it ("refused" is right; "hung" would be a listener nobody accepts on). */
  newConnection: string;
}

export interface WorkerObservation extends StopObservation {
  ids: string[];
  fates: Record<string, TaskFate>;
  counts: Record<TaskFate, number>;
  /** LLEN of the queue after the stop. */
  queueLength: number;
  /** The state the result backend holds for each task after the stop ('none': no record). */
  states: Record<string, string>;
  /**
   * Milliseconds from the hard-stop step (the supervisor's shutdown.escalate line) until every unfinished
   * task's message was back in the queue, polled from Redis; undefined when there was no escalation or the
   * messages never all came back.
   */
  restoreMs: number | undefined;
}

interface StopOptions {
  name: string;
  runner: Runner;
  env?: Record<string, string>;
  /** Plays the kubelet: SIGKILL to PID 1 this long after the SIGTERM (terminationGracePeriodSeconds). */
  kubeletGraceMs?: number;
  /** Fails the test (after killing) when the container has not exited by then. */
  exitDeadlineMs: number;
  /** Whose programs run (test/support/real/versions.ts); default the host's. */
  versions?: VersionSet;
}

function armKubelet(container: Container, graceMs: number | undefined): { fired: () => boolean; cancel: () => void } {
  let fired = false;
  const timer =
    graceMs === undefined
      ? undefined
      : setTimeout(() => {
          if (!container.running) return;
          fired = true;
          container.killPid1();
        }, graceMs);
  return { fired: () => fired, cancel: () => clearTimeout(timer) };
}

async function stopAndObserve(container: Container, options: StopOptions): Promise<Omit<StopObservation, 'runner' | 'container'>> {
  const before = container.members().filter((p) => p.nsPid !== 1);
  container.signal('SIGTERM');
  const kubelet = armKubelet(container, options.kubeletGraceMs);
  try {
    const exit = await container.waitExit(options.exitDeadlineMs);
    // The namespace is gone with tini; give the kernel a moment to finish SIGKILLing stragglers, if any.
    await sleep(100);
    return { exit, before, aliveAfter: before.filter(stillAlive), events: container.events(), kubeletKilled: kubelet.fired() };
  } finally {
    kubelet.cancel();
  }
}

export async function startWeb(
  name: string,
  runner: Runner,
  env: Record<string, string> = {},
  versions: VersionSet = BOOKWORM,
): Promise<{ container: Container; port: number }> {
  const port = await freePort();
  const container = await Container.start({ name, runner, versions, env: { ROLE: 'web', PORT: String(port), ...env } });
  await container.waitOutput(/Booting worker with pid/, 30_000);
  await waitFor(`${name}: /healthz answers 200`, async () => (await get(port, '/healthz', 2000)).status === 200, 30_000, 100);
  return { container, port };
}

/** Scenario 1 (and 2 with a request longer than the budget): requests in flight, then SIGTERM to PID 1. */
export async function webStopWithRequestsInFlight(options: StopOptions & { requests: number; seconds: number }): Promise<WebObservation> {
  const { container, port } = await startWeb(options.name, options.runner, options.env, options.versions);
  const inFlight = Array.from({ length: options.requests }, () => get(port, `/slow?s=${options.seconds}`, (options.seconds + 60) * 1000));
  await container.waitOutput(/slow\.start/, 15_000, options.requests);
  const stopping = stopAndObserve(container, options);
  // New clients while the in-flight requests are still running: right after the stop signal (gunicorn's
  // gevent worker notices the stop only at its next 1 s tick and accepts until then), and 2 s after it
  // (still inside the 3 s of the in-flight requests; the margin over the 1 s tick absorbs a busy machine).
  const early = sleep(300).then(() => newConnection(port, 2000));
  const late = sleep(2000).then(() => newConnection(port, 2000));
  const stop = await stopping;
  const responses = await Promise.all(inFlight);
  return { runner: options.runner, container, ...stop, responses, newConnectionEarly: await early, newConnection: await late };
}

/** Polls the queue length until it reaches `count`; resolves with the time it did (undefined: stopped first). */
function watchQueue(redis: RedisServer, count: number): { reachedAt: Promise<number | undefined>; stop: () => void } {
  let stopped = false;
  const reachedAt = (async () => {
    while (!stopped) {
      const length = Number(await redis.command('LLEN', QUEUE).catch(() => 0));
      if (length >= count) return Date.now();
      await sleep(20);
    }
    return undefined;
  })();
  return { reachedAt, stop: () => (stopped = true) };
}

/**
 * Scenario 4 (and 5 with tasks longer than the budget): tasks running, then SIGTERM to PID 1.
 * `task`: 'slow' (acks_late + reject_on_worker_lost) or 'plain_slow' (celery's defaults: acked on receipt).
 */
export async function workerStopWithTasksInFlight(
  options: StopOptions & { tasks: number; seconds: number; concurrency: number; task?: SlowTask },
): Promise<WorkerObservation> {
  await using redis = await RedisServer.start(options.versions);
  const container = await Container.start({
    name: options.name,
    runner: options.runner,
    versions: options.versions,
    env: { ROLE: 'worker', CELERY_BROKER_URL: redis.url, CELERY_CONCURRENCY: String(options.concurrency), ...options.env },
  });
  await container.waitOutput(/celery@\S+ ready\./, 30_000);
  const ids = await sendSlowTasks(redis, options.tasks, options.seconds, options.task);
  await waitFor(
    `${options.name}: all ${ids.length} tasks STARTED`,
    async () => (await Promise.all(ids.map((id) => taskState(redis, id)))).every((s) => s === 'STARTED'),
    20_000,
    100,
  );
  const queue = watchQueue(redis, ids.length);
  const stop = await stopAndObserve(container, options);
  queue.stop();
  const restoredAt = await queue.reachedAt;
  const escalatedAt = stop.events.find((e) => e.event === 'shutdown.escalate' && e.signal !== 'SIGKILL')?.time;
  const restoreMs = restoredAt !== undefined && typeof escalatedAt === 'string' ? restoredAt - Date.parse(escalatedAt) : undefined;
  const fates = await taskFates(redis, ids);
  const states: Record<string, string> = {};
  for (const id of ids) states[id] = (await taskState(redis, id)) ?? 'none';
  const queueLength = Number(await redis.command('LLEN', QUEUE));
  return { runner: options.runner, container, ...stop, ids, fates, counts: countFates(fates), queueLength, states, restoreMs };
}
