/**
 * Scenario 3 of issue 3: gunicorn's operational signals through the image's tini and the supervisor, real programs.
 *   HUP to PID 1  -> tini forwards it to the supervisor -> the supervisor forwards it to the gunicorn
 *                    master only -> workers reload; an in-flight request still completes.
 *   TTIN/TTOU     -> tini never forwards these (it ignores them), so they go to the supervisor (PID 2)
 *                    directly, which forwards them to the master: one worker more / less.
 * Plus, recorded as a fact: the old start.sh with HUP to PID 1 (its tini -g sends it to the workers too).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Proc, stillAlive } from '../support/proc.js';
import { sleep, waitFor } from '../support/wait.js';
import { type Container, useContainerCleanup } from '../support/real/container.js';
import { get } from '../support/http.js';
import { startWeb } from '../support/real/scenarios.js';
import { VERSION_SETS, type VersionSet } from '../support/real/versions.js';

useContainerCleanup();

function gunicornWorkers(container: Container): Proc[] {
  const master = container.leader();
  if (!master) return [];
  return container.members().filter((p) => p.ppid === master.pid && p.state !== 'Z');
}

/** The supervisor logged that it forwarded `signal` to the gunicorn master (the log line may trail the effect). */
async function expectForwardedToLeader(container: Container, signal: string): Promise<void> {
  const event = await waitFor(
    `signal.forwarded ${signal}`,
    () => container.events().find((e) => e.event === 'signal.forwarded' && e.signal === signal),
    5000,
  );
  expect(event.target).toBe('leader');
}

describe.each(VERSION_SETS)('$name: scenario 3 — web: HUP reload and TTIN/TTOU', (versions: VersionSet) => {
  beforeAll(() => versions.prepare(), 1_500_000);

  it('supervisor: HUP to PID 1 reloads the workers without dropping the in-flight request; TTIN/TTOU to PID 2 add/remove a worker', async () => {
    const { container, port } = await startWeb(`${versions.name}-s3-web-signals-supervisor`, 'supervisor', { WORKERS: '1' }, versions);
    const before = gunicornWorkers(container);
    expect(before, 'one gunicorn worker at start').toHaveLength(1);

    // HUP with a request in flight.
    const inFlight = get(port, '/slow?s=3');
    await container.waitOutput(/slow\.start/, 15_000);
    container.signal('SIGHUP');
    const replacement = await waitFor(
      'a new gunicorn worker after HUP',
      () => {
        const fresh = gunicornWorkers(container).filter((p) => !before.some((b) => b.pid === p.pid));
        return fresh.length > 0 && fresh;
      },
      20_000,
    );
    expect((await inFlight).status, 'the request in flight during the reload').toBe(200);
    await waitFor('the old worker exits after its request', () => !before.some(stillAlive), 20_000);
    expect(gunicornWorkers(container).map((p) => p.pid)).toEqual(replacement.map((p) => p.pid));
    expect((await get(port, '/healthz')).status).toBe(200);
    await expectForwardedToLeader(container, 'SIGHUP');

    // tini ignores TTIN: sent to PID 1 it reaches nobody.
    container.signal('SIGTTIN');
    await sleep(1500);
    expect(gunicornWorkers(container), 'TTIN to PID 1 changes nothing (tini does not forward it)').toHaveLength(1);
    expect(container.events().filter((e) => e.event === 'signal.received' && e.signal === 'SIGTTIN')).toHaveLength(0);

    // TTIN / TTOU to the supervisor directly.
    container.signal('SIGTTIN', 2);
    await waitFor('2 gunicorn workers after TTIN', () => gunicornWorkers(container).length === 2, 20_000);
    await expectForwardedToLeader(container, 'SIGTTIN');
    container.signal('SIGTTOU', 2);
    await waitFor('1 gunicorn worker after TTOU', () => gunicornWorkers(container).length === 1, 20_000);
    await expectForwardedToLeader(container, 'SIGTTOU');

    container.signal('SIGTERM');
    const exit = await container.waitExit(40_000);
    expect(exit.code).toBe(0);
    expect(container.events().at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
  }, 120_000);

  it('old start.sh (baseline, recorded): HUP to PID 1 with a request in flight', async () => {
    const { container, port } = await startWeb(`${versions.name}-s3-web-hup-start.sh`, 'start.sh', { WORKERS: '1' }, versions);
    const before = gunicornWorkers(container);
    const inFlight = get(port, '/slow?s=3');
    await container.waitOutput(/slow\.start/, 15_000);
    container.signal('SIGHUP');
    const response = await inFlight;
    await sleep(500);
    const workersAfter = gunicornWorkers(container).length;
    const stillServes = (await get(port, '/healthz', 5000)).status;
    console.info(
      `[web-signals] ${versions.name}: old start.sh, HUP to PID 1 with /slow?s=3 in flight: request -> ${response.status ?? response.error}; ` +
        `old worker alive: ${before.some(stillAlive)}; workers now: ${workersAfter}; /healthz afterwards: ${stillServes}`,
    );
    container.signal('SIGTERM');
    await container.waitExit(40_000);
  }, 120_000);
});
