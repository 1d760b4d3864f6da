/**
 * One web deploy, rolled the way operators roll: replicas in fixed slots behind a real balancer, closed-loop load
 * through it, and one rolling replacement after another:
 *
 *   1. start a replica in the free slot (the container topology of test/support/real/container.ts: a PID namespace,
 *      tini as PID 1, the supervisor or start.sh as PID 2, uid 10001) and wait until the balancer routes to it;
 *   2. SIGTERM to the oldest replica's PID 1, as the kubelet sends it; with the kube-proxy-like balancer, the slot
 *      leaves the rotation a propagation delay later, whatever the replica does meanwhile;
 *   3. wait until the old replica has exited and the balancer has it out of rotation.
 *
 * Every roll gets load generators of its own (test/support/drill/wrk.ts), started before step 1 and stopped a
 * moment after step 3, so the failures of a roll are its own. Before the first roll the same load runs against the
 * untouched replicas: a failure there would be the drill's own, and fails it.
 */
import { Container, type Runner } from '../real/container.js';
import { type VersionSet } from '../real/versions.js';
import { freePort, get } from '../http.js';
import { sleep, waitFor } from '../wait.js';
import { type BackendCounters, type BalancerMode, HaProxy, HEALTH_CHECK, type Removal, type Slot } from './haproxy.js';
import { type ConnectionMode, type LoadResult, Wrk } from './wrk.js';

/** What /slow sleeps per request: the closed loop's rate is connections / (this + overhead). */
export const REQUEST_SECONDS = 0.05;
const SLOT_COUNT = 3;
const REPLICAS = 2;

export interface WebDeployOptions {
  /** Names the log files and the report's row. */
  name: string;
  versions: VersionSet;
  runner: Runner;
  /** Variables on top of the role's defaults (e.g. a DRAIN_DELAY to compare). */
  env: Record<string, string>;
  mode: BalancerMode;
  removal: Removal;
  rolls: number;
  /** Connections of each load generator (closed loop: each has one request in flight). */
  connections: number;
  /** Generators that run side by side, one per connection mode. */
  loads: readonly ConnectionMode[];
  /** kube-proxy-like removal: from the SIGTERM to the slot leaving the rotation. */
  propagationMs: number;
  /** Load before the first roll (the steady-state check) and after each roll's end, before its count is taken. */
  settleMs: number;
}

export interface RollResult {
  /** Per connection mode: what its load generator saw during this roll. */
  load: Record<string, LoadResult>;
  /** From the SIGTERM to the old replica's exit. */
  stopMs: number;
  exitCode: number;
  /** From the start of the new replica to the old one out of rotation and gone: what the roll adds to a deploy. */
  rollMs: number;
  /** What the balancer did meanwhile (differences of its counters): retries and redispatches hide failures. */
  balancer: BackendCounters;
}

export interface WebDeployResult {
  options: WebDeployOptions;
  steady: Record<string, LoadResult>;
  rolls: RollResult[];
  /** Sum of the rolls' rollMs: the deploy, without the drill's own settling time. */
  deployMs: number;
}

interface Replica {
  slot: Slot;
  container: Container;
}

/** The URL that says whether a replica is ready: the supervisor's probe endpoint, or the app itself for start.sh. */
function readiness(runner: Runner, port: number, probePort: number): Slot['ready'] {
  return runner === 'supervisor' ? { port: probePort, path: '/ready' } : { port, path: '/healthz' };
}

export async function runWebDeploy(options: WebDeployOptions): Promise<WebDeployResult> {
  const slots: Slot[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) {
    const [port, probePort] = [await freePort(), await freePort()];
    slots.push({ name: `slot${i}`, port, ready: readiness(options.runner, port, probePort) });
  }
  const balancer = await HaProxy.start({ name: options.name, mode: options.mode, removal: options.removal, slots });
  const replicas: Replica[] = [];
  // Everything this deploy started, so that a deploy that fails half-way leaves nothing running for the next one.
  const containers: Container[] = [];
  let loads: Wrk[] = [];

  const startReplica = async (slot: Slot): Promise<Replica> => {
    const container = await Container.start({
      name: `${options.name}-r${containers.length}`,
      runner: options.runner,
      versions: options.versions,
      env: {
        ROLE: 'web',
        PORT: String(slot.port),
        ...(options.runner === 'supervisor' ? { PROBE_PORT: String(slot.ready.port) } : {}),
        ...options.env,
      },
    });
    containers.push(container);
    await waitFor(
      `${container.options.name}: ready (${slot.ready.path} on ${slot.ready.port})`,
      async () => {
        if (!container.running) throw new Error(`${container.options.name} exited while starting:\n${container.tail()}`);
        return (await get(slot.ready.port, slot.ready.path, 2000)).status === 200;
      },
      60_000,
      100,
    );
    // kube-proxy-like: the endpoints controller adds a pod once it is ready; the health checks find it themselves.
    if (options.removal === 'kube-proxy') await balancer.enable(slot.name);
    await balancer.waitUp(slot.name, 30_000);
    return { slot, container };
  };

  const startLoads = async () => {
    loads = await Promise.all(
      options.loads.map((mode) =>
        Wrk.start({ url: `${balancer.url}/slow?s=${REQUEST_SECONDS}`, connections: options.connections, mode, maxSeconds: 600 }),
      ),
    );
  };
  const stopLoads = async (): Promise<Record<string, LoadResult>> => {
    const results = await Promise.all(loads.map((load) => load.stop()));
    loads = [];
    return Object.fromEntries(options.loads.map((mode, i) => [mode, results[i]!]));
  };

  try {
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(slots[i]!));
    // An empty slot must be out of rotation before any load: with health checks HAProxy starts every server UP.
    for (const slot of slots.slice(REPLICAS)) await balancer.waitOut(slot.name, 10_000);

    await startLoads();
    await sleep(options.settleMs);
    const steady = await stopLoads();

    const rolls: RollResult[] = [];
    for (let roll = 0; roll < options.rolls; roll++) {
      const free = slots.find((slot) => !replicas.some((r) => r.slot === slot))!;
      const before = await balancer.counters();
      await startLoads();
      const rollStart = Date.now();
      replicas.push(await startReplica(free));
      const oldest = replicas.shift()!;
      oldest.container.signal('SIGTERM');
      const removed =
        options.removal === 'kube-proxy' ? sleep(options.propagationMs).then(() => balancer.disable(oldest.slot.name)) : Promise.resolve();
      const exit = await oldest.container.waitExit(60_000);
      await removed;
      // With health checks the dead replica leaves the rotation at its next failed check; a new replica must not
      // take the slot before that (the balancer would count the old UP as the new one's).
      await balancer.waitOut(oldest.slot.name, HEALTH_CHECK.interMs * 2 + 5000);
      const rollMs = Date.now() - rollStart;
      await sleep(options.settleMs);
      const load = await stopLoads();
      const after = await balancer.counters();
      rolls.push({ load, stopMs: exit.stopMs ?? -1, exitCode: exit.code, rollMs, balancer: difference(after, before) });
    }
    return { options, steady, rolls, deployMs: rolls.reduce((sum, r) => sum + r.rollMs, 0) };
  } finally {
    await Promise.all(loads.map((load) => load.cleanup()));
    await Promise.all(containers.map((container) => container.kill()));
    await balancer.stop();
  }
}

function difference(after: BackendCounters, before: BackendCounters): BackendCounters {
  return {
    econ: after.econ - before.econ,
    eresp: after.eresp - before.eresp,
    wretr: after.wretr - before.wretr,
    wredis: after.wredis - before.wredis,
    hrsp5xx: after.hrsp5xx - before.hrsp5xx,
  };
}
