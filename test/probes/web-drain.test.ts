// Web probes on real gunicorn in the container topology (the image's tini PID 1, the supervisor, uid 10001): /ready turns
// false the moment the stop is requested and stays false through DRAIN_DELAY and the graceful stop, while
// gunicorn keeps serving and the request in flight completes with 200; /live stays true throughout.
// And, with a stand-in `gunicorn` that does not listen, /ready waits for the program's port.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { waitFor } from '../support/wait.js';
import { world } from '../support/world.js';
import { useContainerCleanup } from '../support/real/container.js';
import { freePort, get, probeAnswer } from '../support/http.js';
import { startWeb } from '../support/real/scenarios.js';

useContainerCleanup();

describe('web probes during a real drain', () => {
  it('readiness is false from the stop request on while gunicorn serves the request in flight to 200; liveness stays true', async () => {
    const probePort = await freePort();
    const { container, port } = await startWeb('probes-web-drain', 'supervisor', {
      PROBE_PORT: String(probePort),
      DRAIN_DELAY: '3',
      STOP_TIMEOUT: '20',
    });
    expect(await probeAnswer(probePort, '/ready')).toMatchObject({ status: 200, phase: 'running' });
    expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200, phase: 'running' });

    // Longer than the drain, so it is still in flight during the graceful stop as well.
    const inFlight = get(port, '/slow?s=6', 60_000);
    await container.waitOutput(/slow\.start/, 15_000);
    container.signal('SIGTERM');
    await waitFor('shutdown.drain', () => container.events().some((e) => e.event === 'shutdown.drain'), 10_000);

    expect(await probeAnswer(probePort, '/ready'), 'readiness while draining').toMatchObject({ status: 503, phase: 'draining' });
    expect(await probeAnswer(probePort, '/live'), 'liveness while draining').toMatchObject({ status: 200, phase: 'draining' });
    expect((await get(port, '/healthz', 10_000)).status, 'gunicorn still serves new requests during the drain').toBe(200);

    await waitFor('shutdown.graceful', () => container.events().some((e) => e.event === 'shutdown.graceful'), 15_000);
    expect(await probeAnswer(probePort, '/ready'), 'readiness during the graceful stop').toMatchObject({ status: 503, phase: 'stopping' });
    expect(await probeAnswer(probePort, '/live'), 'liveness during the graceful stop').toMatchObject({ status: 200, phase: 'stopping' });

    expect((await inFlight).status, 'the request in flight').toBe(200);
    expect((await container.waitExit(30_000)).code).toBe(0);
    const events = container.events();
    expect(
      events.some((e) => e.event === 'shutdown.escalate'),
      'no escalation',
    ).toBe(false);
    expect(
      events.filter((e) => e.event === 'probe.failing'),
      'a stop is not a probe failure',
    ).toEqual([]);
  });
});

describe("web readiness waits for the program's port", () => {
  it('is 503 while nothing accepts on PORT and 200 once something does; liveness passes meanwhile', async () => {
    const w = world();
    const [appPort, probePort] = [await freePort(), await freePort()];
    const sup = await startSupervisor([], { env: { ...w.env, ROLE: 'web', PORT: String(appPort), PROBE_PORT: String(probePort) } });
    let listener: net.Server | undefined;
    try {
      await sup.waitForLog((l) => l.event === 'child.spawn');
      expect(await probeAnswer(probePort, '/ready')).toMatchObject({
        status: 503,
        phase: 'running',
        reason: expect.stringContaining('does not accept'),
      });
      expect(await probeAnswer(probePort, '/live')).toMatchObject({ status: 200, phase: 'running' });
      await sup.waitForLog((l) => l.event === 'probe.failing' && l.probe === 'ready');

      listener = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => listener!.listen(appPort, '127.0.0.1', resolve));
      expect(await probeAnswer(probePort, '/ready')).toMatchObject({ status: 200, phase: 'running' });
      await sup.waitForLog((l) => l.event === 'probe.passing' && l.probe === 'ready');
      expect((await get(probePort, '/metrics')).status, 'nothing but /live and /ready').toBe(404);
    } finally {
      sup.signal('SIGTERM');
      await sup.exited;
      listener?.close();
      expect(w.cleanup()).toEqual([]);
    }
  });
});
