// deploy/k8s for real, as far as this machine allows: `podman kube play` runs the web, worker and beat
// Deployments (images built from the repository's Dockerfiles on the local stand-ins, as the podman e2e does),
// podman turns their livenessProbe into a health check it runs INSIDE the container, the test probes /ready and
// /live from outside the pod the way the kubelet does (podman 4.3 ignores readinessProbe and startupProbe), then
// stops the pods with a request and a task in flight the way the kubelet would, TERM and terminationGracePeriodSeconds
// (`podman stop -t` per container, since podman ignores that field): readiness turns false during the drain, both complete,
// every supervisor exits 0; `podman kube down` then removes them. podman 4.3.1's own `kube down` stops a pod with
// no grace at all (TERM and SIGKILL at once): the last test records that, so the docs stay true.
//
// What the manifests get changed before play, and why (everything else is played as written):
//   - image: the locally built images (what kustomization.yaml's `images:` does in a real cluster), plus a
//     test-only layer with curl: podman converts an httpGet probe into `curl -f http://localhost:PORT/PATH` run
//     inside the container, and the production images carry no curl (python:3.12-slim has none, kubelet needs none);
//   - REDIS_URL: a plain value instead of secretKeyRef — podman 4.3.1 cannot read a Kubernetes Secret kept as
//     a podman secret (it reports "secret ... is not valid JSON" for every encoding), so it stays statically checked;
//   - `ports` are dropped and the probes' named port becomes its number: podman 4.3 publishes every containerPort
//     on the same port of the host (hostPort defaults to containerPort), so the second replica, or web's and the
//     worker's PROBE_PORT, would collide on the host; in a cluster each pod has its own IP. The probes are still
//     reached at the pod IP, as the kubelet does;
//   - the Service document is not played (podman 4.3 plays Pods, Deployments, PVCs and ConfigMaps).
// Podman 4.3 has no periodic health checks without systemd; the test runs `podman healthcheck run`, which is
// what the timer would run.
//
// Takes about 2-3 minutes on the 2-core CI machine with the stand-ins cached. Cleans up everything it made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type RunResult, which } from '../support/command.js';
import { get } from '../support/http.js';
import { read } from '../support/image/files.js';
import { PodmanSandbox, buildImages, cleanUpSandbox, stepTimer, waitForPodman } from '../support/image/podman.js';
import type { Timings } from '../support/image/standins.js';
import { sleep } from '../support/wait.js';
import { SEND_SLOW_PY, TASK_STATE_PY } from '../support/image/app-scripts.js';

const PREFIX = 'eveai-kube-';
const IMAGES = {
  base: `localhost/${PREFIX}base:test`,
  eveai_app: `localhost/${PREFIX}app:test`,
  eveai_workers: `localhost/${PREFIX}workers:test`,
};
/** The images the manifests run: the service images plus curl, which podman's httpGet health check needs. */
const PLAYED = { 'eveai-app': `localhost/${PREFIX}app-curl:test`, 'eveai-workers': `localhost/${PREFIX}workers-curl:test` };
const REDIS_POD = `${PREFIX}redis`;
const MANIFESTS = ['web', 'worker', 'beat'] as const;
type Manifest = (typeof MANIFESTS)[number];
const DEPLOYMENT: Record<Manifest, string> = { web: 'eveai-web', worker: 'eveai-worker', beat: 'eveai-beat' };

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: {
    httpGet?: { path: string; port: string | number };
    periodSeconds?: number;
    timeoutSeconds?: number;
    failureThreshold?: number;
  };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
}
interface Deployment {
  kind: string;
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: { terminationGracePeriodSeconds?: number; containers: Container[] } } };
}
interface LogLine {
  event?: string;
  [key: string]: unknown;
}

const timings: Timings = {};
const suiteStarted = Date.now();
let sandbox: PodmanSandbox;
let work: string;
const deployments = {} as Record<Manifest, Deployment>;
const files = {} as Record<Manifest, string>;
let redisIp = '';

function podman(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return sandbox.podman(args, { timeoutMs });
}
const timed = stepTimer(timings);
const waitFor = waitForPodman;

/** podman names a Deployment's containers <deployment>-pod-<replica>-<container>. */
function containerName(manifest: Manifest, replica = 0): string {
  const deployment = deployments[manifest];
  return `${deployment.metadata.name}-pod-${replica}-${deployment.spec.template.spec.containers[0]!.name}`;
}
function replicas(manifest: Manifest): number {
  return deployments[manifest].spec.replicas ?? 1;
}
function allContainers(): string[] {
  return MANIFESTS.flatMap((m) => Array.from({ length: replicas(m) }, (_, i) => containerName(m, i)));
}
function probePort(manifest: Manifest): number {
  const container = deployments[manifest].spec.template.spec.containers[0]!;
  return Number(container.env!.find((e) => e.name === 'PROBE_PORT')!.value);
}
async function ipOf(container: string): Promise<string> {
  const ip = (await podman(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container])).stdout.trim();
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`${container} has no IPv4 address: ${JSON.stringify(ip)}`);
  return ip;
}

/** The pod's terminationGracePeriodSeconds, which podman 4.3 ignores and the test applies itself. */
function grace(manifest: Manifest): number {
  return deployments[manifest].spec.template.spec.terminationGracePeriodSeconds ?? 30;
}
const logs = (container: string) => sandbox.logs(container);
const supervisorLog = (container: string) => sandbox.supervisorLog<LogLine>(container);
const exitCode = (container: string) => sandbox.exitCode(container);
const REDIS_ENV = ['--env', 'REDIS_URL=redis://127.0.0.1:6379/0'];
/** A task sent, and its state read, from the redis pod (it runs the workers image, so it has the app). */
async function sendSlowTask(seconds: number): Promise<string> {
  return (await podman(['exec', ...REDIS_ENV, `${REDIS_POD}-redis`, 'python3', '-c', SEND_SLOW_PY, String(seconds)])).stdout.trim();
}
async function taskState(id: string): Promise<string> {
  return (
    JSON.parse((await podman(['exec', ...REDIS_ENV, `${REDIS_POD}-redis`, 'python3', '-c', TASK_STATE_PY, id])).stdout) as { state: string }
  ).state;
}

/** The manifest as podman will play it (see the header for each change). */
function forPodman(manifest: Manifest): Deployment {
  const docs = parseAllDocuments(read(`deploy/k8s/${manifest}.yaml`)).map((d) => d.toJS() as Deployment);
  const deployment = docs.find((d) => d.kind === 'Deployment')!;
  for (const container of deployment.spec.template.spec.containers) {
    container.image = PLAYED[container.image as keyof typeof PLAYED] ?? container.image;
    const byName = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      if (probe?.httpGet && typeof probe.httpGet.port === 'string') probe.httpGet.port = byName.get(probe.httpGet.port)!;
    }
    delete container.ports;
    for (const e of container.env ?? []) {
      if (e.name === 'REDIS_URL') {
        delete e.valueFrom;
        e.value = `redis://${redisIp}:6379/0`;
      }
    }
  }
  return deployment;
}

beforeAll(async () => {
  if (!which('catatonit')) {
    throw new Error(
      "podman kube play needs catatonit for the pod's infra container; install it with `bash dev.sh setup` (APT_PACKAGES). It does not skip: CI runs it.",
    );
  }
  sandbox = PodmanSandbox.create();
  work = join(sandbox.dir, 'kube');
  mkdirSync(work);
  await buildImages(sandbox, timings, IMAGES);
  // The test-only curl layer (see the header). Debian's curl, from the archive the base image's tini comes from.
  for (const [service, image] of [
    [IMAGES.eveai_app, PLAYED['eveai-app']],
    [IMAGES.eveai_workers, PLAYED['eveai-workers']],
  ] as const) {
    const dir = join(work, image.replace(/[^a-z0-9]+/g, '-'));
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'Containerfile'),
      [
        `FROM ${service}`,
        'USER 0:0',
        'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*',
        'USER 10001:10001',
        '',
      ].join('\n'),
    );
    await timed(`podman build ${image} (curl layer)`, () =>
      sandbox.podman(['build', '--pull=never', '--network', 'host', '-t', image, dir], { timeoutMs: 600_000 }),
    );
  }

  // Redis in a pod of its own on the network podman gives kube pods; the manifests reach it by IP.
  const redisPod = join(work, 'redis.yaml');
  writeFileSync(
    redisPod,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: REDIS_POD },
      spec: {
        containers: [
          {
            name: 'redis',
            image: IMAGES.eveai_workers,
            command: ['redis-server', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
          },
        ],
      },
    }),
  );
  await timed('podman kube play redis', () => podman(['kube', 'play', redisPod]));
  redisIp = await ipOf(`${REDIS_POD}-redis`);
  await waitFor(
    'redis answers',
    async () => ((await podman(['exec', `${REDIS_POD}-redis`, 'redis-cli', 'ping'])).stdout.includes('PONG') ? true : undefined),
    30_000,
  );

  for (const manifest of MANIFESTS) {
    deployments[manifest] = forPodman(manifest);
    files[manifest] = join(work, `${manifest}.yaml`);
    writeFileSync(files[manifest], JSON.stringify(deployments[manifest]));
  }
}, 1_800_000);

afterAll(async () => {
  if (sandbox) {
    // Pods first (their infra containers go with them), then the network kube play made (its host bridge).
    await sandbox.podman(['pod', 'rm', '--all', '--force', '--time', '0'], { allowFailure: true, timeoutMs: 120_000 });
    await sandbox.podman(['network', 'rm', '--force', 'podman-default-kube-network'], { allowFailure: true, timeoutMs: 60_000 });
  }
  await cleanUpSandbox(sandbox, timings, 'podman kube play', suiteStarted);
}, 300_000);

describe('deploy/k8s under podman kube play', () => {
  it("plays web, worker and beat; podman turns each livenessProbe into a health check of the supervisor's /live", async () => {
    for (const manifest of MANIFESTS) {
      await timed(`podman kube play ${manifest}.yaml`, () => podman(['kube', 'play', files[manifest]], 300_000));
    }
    for (const manifest of MANIFESTS) {
      const probe = deployments[manifest].spec.template.spec.containers[0]!.livenessProbe!;
      for (let replica = 0; replica < replicas(manifest); replica++) {
        const name = containerName(manifest, replica);
        const [inspect] = JSON.parse((await podman(['inspect', name])).stdout) as {
          Config: { Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number } };
          HostConfig: { ReadonlyRootfs: boolean };
          Mounts: { Destination: string }[];
        }[];
        // The hardening and the emptyDir volumes are played too (the worker's heartbeat lives on /tmp).
        expect(inspect!.HostConfig.ReadonlyRootfs, `${name}: readOnlyRootFilesystem`).toBe(true);
        expect(
          inspect!.Mounts.map((m) => m.Destination),
          `${name}: emptyDir mounts`,
        ).toContain('/tmp');
        const check = inspect!.Config.Healthcheck!;
        // podman 4.3: ["CMD-SHELL", "curl", "-f", "http://localhost:PORT/PATH", "||", "exit", "1"]
        expect(check.Test.join(' '), name).toContain(`curl -f http://localhost:${probePort(manifest)}${probe.httpGet!.path}`);
        expect(check.Interval, name).toBe((probe.periodSeconds ?? 10) * 1e9);
        expect(check.Timeout, name).toBe((probe.timeoutSeconds ?? 1) * 1e9);
        expect(check.Retries, name).toBe(probe.failureThreshold ?? 3);
      }
    }
  }, 600_000);

  it("every container becomes healthy (podman's health check) and the kubelet-style probes pass from outside the pod", async () => {
    for (const name of allContainers()) {
      await timed(`${name} healthy`, () =>
        waitFor(
          `${name}: podman healthcheck run`,
          async () =>
            (await sandbox.podman(['healthcheck', 'run', name], { allowFailure: true, timeoutMs: 30_000 })).code === 0 ? true : undefined,
          120_000,
          1000,
        ),
      );
    }
    for (const manifest of MANIFESTS) {
      const container = deployments[manifest].spec.template.spec.containers[0]!;
      for (let replica = 0; replica < replicas(manifest); replica++) {
        const ip = await ipOf(containerName(manifest, replica));
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          if (!probe) continue;
          const answer = await get(probePort(manifest), probe.httpGet!.path, 10_000, ip);
          expect(answer, `${manifest}[${replica}] ${probe.httpGet!.path}`).toMatchObject({ status: 200 });
          expect(JSON.parse(answer.body!), 'no environment value, pid or path in the answer').toEqual({
            probe: expect.any(String),
            ok: true,
            phase: 'running',
            reason: 'running',
          });
        }
      }
    }
    // The web app itself, at the pod IP and the named port http.
    const web = await ipOf(containerName('web'));
    expect((await get(8080, '/healthz', 10_000, web)).status).toBe(200);
  }, 600_000);

  it('stopped as the kubelet does with a request and a task in flight, then kube down: readiness turns false, both complete, every supervisor exits 0', async () => {
    const webIp = await ipOf(containerName('web'));
    const webProbe = probePort('web');
    const request = get(8080, '/slow?s=3', 60_000, webIp);
    await waitFor(
      'the request is in flight',
      async () => ((await logs(containerName('web'))).includes('slow.start') ? true : undefined),
      30_000,
      100,
    );
    const id = await sendSlowTask(3);
    await waitFor('the task STARTED', async () => ((await taskState(id)) === 'STARTED' ? true : undefined), 30_000, 200);

    // podman 4.3.1's `kube down` gives no grace at all (next test), and podman ignores terminationGracePeriodSeconds:
    // the test plays the kubelet's stop — TERM to each container, SIGKILL after that grace period, the pod's network
    // kept until its containers are gone — with `podman stop -t` on the containers, then kube down. (`podman pod
    // stop` would stop the infra container, and with it the pod's network, while web still drains.)
    const started = Date.now();
    const stops = Promise.all(
      MANIFESTS.flatMap((manifest) =>
        Array.from({ length: replicas(manifest) }, (_, replica) =>
          timed(`podman stop -t ${grace(manifest)} ${containerName(manifest, replica)}`, () =>
            podman(['stop', '--time', String(grace(manifest)), containerName(manifest, replica)], (grace(manifest) + 60) * 1000),
          ),
        ),
      ),
    );
    // What the kubelet's readiness probe sees at the pod IP while web stops: 503 during the drain, while gunicorn
    // still serves, until the endpoint is gone with the supervisor.
    const seen: string[] = [];
    let stopped = false;
    void stops.finally(() => (stopped = true));
    while (!stopped) {
      const answer = await get(webProbe, '/ready', 2000, webIp);
      const entry = `${answer.status ?? '-'} ${answer.body ? (JSON.parse(answer.body) as { phase: string }).phase : answer.error}`;
      if (seen.at(-1) !== entry) seen.push(entry);
      await sleep(100);
    }
    await stops;
    const stopMs = Date.now() - started;
    const events: Record<string, string[]> = {};
    for (const name of allContainers())
      events[name] = (await supervisorLog(name)).map((l) => [l.event, l.signal, l.code].filter((x) => x !== undefined).join(' '));
    const story = JSON.stringify({ stopMs, readiness: seen, events }, null, 1);
    console.log(`podman stop of web, worker and beat with work in flight: ${story}`);

    expect(seen.slice(0, 2), story).toContain('503 draining');
    expect(await request, `the request in flight ${story}`).toMatchObject({ status: 200 });
    expect(await taskState(id), `the task in flight ${story}`).toBe('SUCCESS');
    for (const name of allContainers()) {
      expect(events[name], `${name} ${story}`).not.toContain('shutdown.escalate SIGKILL');
      expect(
        events[name]!.filter((e) => e.startsWith('shutdown.escalate')),
        `${name} ${story}`,
      ).toEqual([]);
      expect(events[name]!.at(-1), `${name}: the supervisor's last line ${story}`).toBe('supervisor.exit 0');
      expect(await exitCode(name), name).toBe(0);
    }
    for (const manifest of MANIFESTS) await timed(`podman kube down ${manifest}.yaml`, () => podman(['kube', 'down', files[manifest]]));
    const pods = (await podman(['pod', 'ps', '--format', '{{.Name}}'])).stdout.split('\n');
    expect(
      pods.filter((n) => MANIFESTS.some((m) => n.startsWith(`${DEPLOYMENT[m]}-pod-`))),
      'kube down removed the pods',
    ).toEqual([]);
  }, 300_000);

  it("podman 4.3.1's own kube down gives the pod no grace: a task in flight is cut off (recorded so the docs stay true)", async () => {
    await sandbox.podman(['kube', 'down', files.worker], { allowFailure: true, timeoutMs: 120_000 }); // left by a failed test before
    await podman(['kube', 'play', files.worker], 300_000);
    const worker = containerName('worker');
    await waitFor(
      `${worker} healthy`,
      async () =>
        (await sandbox.podman(['healthcheck', 'run', worker], { allowFailure: true, timeoutMs: 30_000 })).code === 0 ? true : undefined,
      120_000,
      1000,
    );
    const id = await sendSlowTask(5);
    await waitFor('the task STARTED', async () => ((await taskState(id)) === 'STARTED' ? true : undefined), 30_000, 200);
    const down = await timed('podman kube down worker.yaml with a task in flight', () => podman(['kube', 'down', files.worker]));
    await sleep(6000); // longer than the task would have taken
    const state = await taskState(id);
    console.log(`podman kube down alone: ${down.ms} ms, the task in flight is ${state}`);
    // Not lost for good (acks_late: the message waits in kombu's unacked set until the visibility timeout), but
    // not finished and not put back at once either: a SIGKILL, not the warm shutdown the supervisor would run.
    expect(state).not.toBe('SUCCESS');
  }, 300_000);
});
