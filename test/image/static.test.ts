// Static checks of the image and deployment files: Dockerfiles parsed with a real Dockerfile parser
// (dockerfile-ast), compose and Kubernetes YAML validated against JSON schemas (test/image/schemas), and the
// stop-timing rule checked with the supervisor's own resolution of each environment (`--print`).
// What Kubernetes itself would do cannot run here; podman-e2e.test.ts builds and runs the images for real.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import {
  BASE_DOCKERFILE,
  composeDurationMs,
  execForm,
  imageEnv,
  type K8sDocument,
  loadCompose,
  loadK8s,
  parseDockerfile,
  printPlan,
  read,
  secretLooking,
  SERVICE_DOCKERFILES,
  type Stage,
  stageArgs,
  stageEnv,
  stopBudgetSeconds,
  substitute,
} from '../support/image/files.js';

const SCHEMAS = join(ROOT, 'test', 'image', 'schemas');
const ROLES = ['web', 'worker', 'beat'];
const SUPERVISOR_CMD = ['node', '/app/dist/supervisor.js'];
/** The Node flags the image's CMD passes, as build.mjs declares them for the bench to measure. */
const { SUPERVISOR_NODE_FLAGS } = (await import(join(ROOT, 'build.mjs'))) as { SUPERVISOR_NODE_FLAGS: string[] };
/** What the soak and the tests start as PID 1, read from Dockerfile.base by its own small reader. */
const { IMAGE_ENTRYPOINT } = (await import(join(ROOT, 'bench', 'image-entrypoint.mjs'))) as { IMAGE_ENTRYPOINT: string[] };

function keywordsOf(stage: Stage): string[] {
  return stage.instructions.map((i) => i.getKeyword());
}
function args(instruction: Instruction): string[] {
  return instruction.getArguments().map((a) => a.getValue());
}
/** `--name=value` flags of COPY/RUN (--from, --mount, --chown), which getArguments() leaves out. */
function flags(instruction: Instruction): string[] {
  const withFlags = instruction as unknown as { getFlags?(): { getName(): string; getValue(): string | null }[] };
  return (withFlags.getFlags?.() ?? []).map((f) => `--${f.getName()}${f.getValue() === null ? '' : `=${f.getValue()}`}`);
}
/** RUN instructions as `flags command`. */
function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => [...flags(i), i.getArgumentsContent() ?? ''].join(' '));
}
function lastOf(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.getKeyword() === keyword).at(-1);
}

function loadSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as Record<string, unknown>;
}
function errorsOf(validate: ValidateFunction, value: unknown): string {
  return validate(value)
    ? ''
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
}

// compose-spec.json is draft 2019-09 and still carries draft-04 style "id" keywords: not strict mode. Its
// $schema spells the draft's URI as http://...schema#, which Ajv registers as https://...schema: the file is
// used unchanged, the key only dropped here, and Ajv2019 validates it as the draft it says it is.
const composeAjv = new Ajv2019({ strict: false, allErrors: true });
composeAjv.removeKeyword('id'); // Ajv 8 rejects draft-04 "id"; here it only names subschemas ("#/properties/services")
composeAjv.addKeyword({ keyword: 'id', schemaType: 'string' }); // an annotation, no validation
// The compose spec's own formats, as its documentation defines them (its "duration" is Go-style: 1m30s, 500ms).
composeAjv.addFormat('duration', /^(\d+(\.\d+)?(h|m|s|ms|us))+$/);
composeAjv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
composeAjv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?|[\w.-]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
composeAjv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
const { $schema: composeDraft, ...composeSchema } = loadSchema('compose-spec.json');
const validateCompose = composeAjv.compile(composeSchema);
const k8sAjv = new Ajv({ strictSchema: true, strictTypes: false, strictRequired: false, allErrors: true });
const validateK8s = k8sAjv.compile(loadSchema('kubernetes-subset.schema.json'));

describe('Dockerfile.base', () => {
  const file = parseDockerfile(BASE_DOCKERFILE);
  const build = file.stages[0]!;
  const final = file.stages.at(-1)!;
  const finalArgs = stageArgs(final);

  it('is multi-stage: a Node build stage, then the Python runtime stage, images only through build args', () => {
    expect(file.stages).toHaveLength(2);
    expect(args(build.from)[0]).toBe('${NODE_IMAGE}');
    expect(build.name).toBe('supervisor-build');
    expect(args(final.from)[0]).toBe('${PYTHON_IMAGE}');
    expect(file.globalArgs.get('PYTHON_IMAGE')).toMatch(/^python:3\.12-slim/);
  });

  it('builds with the same Node major as the tests (package.json devDependency `node`)', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    const testMajor = /(\d+)/.exec(pkg.devDependencies.node!)![1];
    expect(testMajor).toBe(process.versions.node.split('.')[0]);
    expect(file.globalArgs.get('NODE_IMAGE')).toMatch(new RegExp(`^node:${testMajor}(\\.|-|$)`));
  });

  it('runs npm ci and the bundle build in the build stage', () => {
    const r = runs(build).join('\n');
    expect(r).toMatch(/\bnpm ci\b/);
    expect(r).toMatch(/\bnpm run build\b/);
  });

  it('copies only the Node binary and dist/supervisor.js from the build stage (no node_modules)', () => {
    const copies = final.instructions.filter((i) => i.getKeyword() === 'COPY');
    const fromBuild = copies.filter((c) => flags(c).includes('--from=supervisor-build'));
    expect(fromBuild.map(args)).toEqual([
      ['/usr/local/bin/node', '/usr/local/bin/node'],
      ['/src/dist/supervisor.js', '/app/dist/supervisor.js'],
    ]);
    expect(copies.flatMap(args).join(' ')).not.toMatch(/node_modules/);
  });

  it('installs tini from apt and the requirements with a BuildKit pip cache mount', () => {
    const r = runs(final);
    expect(r.some((c) => /apt-get install\b.*\btini\b/s.test(c) && /rm -rf \/var\/lib\/apt\/lists/.test(c))).toBe(true);
    const pip = r.find((c) => /pip install/.test(c));
    expect(pip).toMatch(/--mount=type=cache,target=\/root\/\.cache\/pip/);
    expect(pip).toMatch(/-r \/app\/requirements\.txt/);
    expect(finalArgs.get('REQUIREMENTS')).toBe('requirements.txt');
  });

  it('copies the shared code of the plan to /app and sets the working directory and environment', () => {
    const copied = final.instructions
      .filter((i) => i.getKeyword() === 'COPY' && !flags(i).some((f) => f.startsWith('--from')))
      .map((i) => args(i).join(' '));
    for (const dir of ['common', 'config', 'scripts', 'patched_packages']) expect(copied).toContain(`${dir} /app/${dir}`);
    expect(args(lastOf(final, 'WORKDIR')!)).toEqual(['/app']);
    const env = stageEnv(final);
    expect(env.get('PYTHONPATH')).toBe('/app:/app/patched_packages');
    expect(env.get('ROLE')).toBe('web');
    expect(env.get('PORT')).toBe('8080');
    expect(args(lastOf(final, 'EXPOSE')!)).toEqual(['8080']);
  });

  it('creates appuser with UID/GID 10001 from build args and ends as that non-root user', () => {
    expect(finalArgs.get('UID')).toBe('10001');
    expect(finalArgs.get('GID')).toBe('10001');
    expect(runs(final).some((c) => /groupadd -g "?\$\{GID\}"? appuser/.test(c) && /useradd -u "?\$\{UID\}"?/.test(c))).toBe(true);
    const keywords = keywordsOf(final);
    const lastUser = keywords.lastIndexOf('USER');
    expect(lastUser).toBeGreaterThan(-1);
    // Nothing that builds the filesystem comes after the final USER.
    expect(keywords.slice(lastUser + 1).filter((k) => ['RUN', 'COPY', 'ADD', 'USER'].includes(k))).toEqual([]);
    const user = substitute(args(final.instructions[lastUser]!)[0]!, finalArgs);
    expect(user).toMatch(/^\d+(:\d+)?$/); // numeric: runAsNonRoot can verify it
    expect(Number(user.split(':')[0])).not.toBe(0);
  });

  it('has plain tini-static as exec-form ENTRYPOINT (no -g) and the supervisor as exec-form CMD (no shell)', () => {
    // -g would forward a stop to a process group that does not exist yet in the instant after tini's fork: lost
    // (README, "PID 1: tini-static, without -g"). The soak and the tests read this same line (bench/image-entrypoint.mjs).
    const entrypoint = execForm(lastOf(final, 'ENTRYPOINT')!);
    expect(entrypoint).toEqual(['/usr/bin/tini-static', '--']);
    expect(IMAGE_ENTRYPOINT).toEqual(entrypoint);
    expect(execForm(lastOf(final, 'CMD')!)).toEqual(['node', ...SUPERVISOR_NODE_FLAGS, '/app/dist/supervisor.js']);
  });
});

describe('service Dockerfiles', () => {
  for (const [dir, path] of Object.entries(SERVICE_DOCKERFILES)) {
    describe(path, () => {
      const file = parseDockerfile(path);
      const stage = file.stages[0]!;

      it('builds FROM the base image given as build arg BASE_IMAGE', () => {
        expect(file.stages).toHaveLength(1);
        expect(args(stage.from)[0]).toBe('${BASE_IMAGE}');
        expect(file.globalArgs.has('BASE_IMAGE')).toBe(true);
      });

      it('copies only its own directory and sets ROLE, nothing else that changes the runtime contract', () => {
        const copies = stage.instructions.filter((i) => ['COPY', 'ADD'].includes(i.getKeyword())).map(args);
        expect(copies).toEqual([[dir, `/app/${dir}`]]);
        expect(statSync(join(ROOT, dir)).isDirectory()).toBe(true);
        expect(existsSync(join(ROOT, dir, '__init__.py'))).toBe(true);
        const role = stageEnv(stage).get('ROLE');
        expect(ROLES).toContain(role);
        // No RUN (code only), no USER (stays the base's non-root user), ENTRYPOINT/CMD inherited.
        expect(keywordsOf(stage).filter((k) => ['RUN', 'USER', 'ENTRYPOINT', 'CMD', 'SHELL'].includes(k))).toEqual([]);
      });
    });
  }

  it('eveai_app and eveai_api are web services, eveai_workers the worker (beat runs from the same image)', () => {
    expect(imageEnv('eveai_app').ROLE).toBe('web');
    expect(imageEnv('eveai_api').ROLE).toBe('web');
    expect(imageEnv('eveai_workers').ROLE).toBe('worker');
  });
});

describe('every Dockerfile', () => {
  const all = [BASE_DOCKERFILE, ...Object.values(SERVICE_DOCKERFILES)].map(parseDockerfile);

  it('uses exec form for every ENTRYPOINT and CMD', () => {
    for (const file of all) {
      for (const instruction of file.ast.getInstructions().filter((i) => ['ENTRYPOINT', 'CMD'].includes(i.getKeyword()))) {
        const argv = execForm(instruction);
        expect(argv, `${file.path}: ${instruction.toString()}`).not.toBeNull();
        expect(argv!.join(' '), `${file.path}: no shell in between`).not.toMatch(/^(\/(usr\/)?bin\/)?(ba|da)?sh( |$)|( -c| -lc)( |$)/);
      }
    }
  });

  it('bakes no secret into ENV or ARG', () => {
    for (const file of all) {
      for (const instruction of file.ast.getInstructions().filter((i) => ['ENV', 'ARG'].includes(i.getKeyword()))) {
        for (const property of (
          instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
        ).getProperties()) {
          expect(secretLooking(property.getName(), property.getValue() ?? ''), `${file.path}: ${instruction.toString()}`).toBe(false);
        }
      }
    }
  });

  it('copies only paths that .dockerignore lets into the build context, which keeps node_modules, dist, .git and tests out', () => {
    const rules = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const allowed = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, '')));
    for (const file of all) {
      for (const stage of file.stages) {
        for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
          if (flags(copy).some((f) => f.startsWith('--from'))) continue;
          const sources = args(copy)
            .slice(0, -1)
            .map((s) => substitute(s, stageArgs(stage)));
          for (const source of sources) {
            expect(allowed.has(source.split('/')[0]!), `${file.path}: COPY ${source} is outside the .dockerignore allow-list`).toBe(true);
            expect(existsSync(join(ROOT, source)), `${file.path}: COPY ${source} does not exist`).toBe(true);
          }
        }
      }
    }
    for (const kept of ['node_modules', 'dist', '.git', 'test', 'bench', 'deploy', '.tmp']) expect(allowed.has(kept)).toBe(false);
  });
});

describe('the podman e2e stand-in requirements', () => {
  /** Distribution names with extras, lower-case, from a requirements file. */
  const names = (path: string) =>
    read(path)
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((line) => /^[A-Za-z0-9._-]+(\[[^\]]*\])?/.exec(line)![0].toLowerCase())
      .sort();

  it('name the same distributions as requirements.txt, without version pins', () => {
    expect(names('test/image/standin/requirements.txt')).toEqual(names('requirements.txt'));
    for (const line of read('test/image/standin/requirements.txt')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[A-Za-z0-9._-]+(\[[^\]]*\])?$/);
    }
  });
});

describe('docker-bake.hcl', () => {
  const hcl = read('docker-bake.hcl');
  it('builds the base target and every service on it through the named context the service Dockerfiles default to', () => {
    expect(hcl).toMatch(/target "base" \{[^}]*dockerfile\s*=\s*"Dockerfile\.base"/s);
    for (const [dir, path] of Object.entries(SERVICE_DOCKERFILES)) {
      expect(hcl).toMatch(new RegExp(`target "${dir}" \\{[^}]*dockerfile\\s*=\\s*"${path.replace(/[./]/g, '\\$&')}"`, 's'));
    }
    const defaultBase = parseDockerfile(SERVICE_DOCKERFILES.eveai_app!).globalArgs.get('BASE_IMAGE');
    expect(hcl).toMatch(new RegExp(`contexts = \\{\\s*${defaultBase} = "target:base"`));
  });
});

// ---- compose -------------------------------------------------------------------------------------

describe('compose_dev.yaml', () => {
  const compose = loadCompose();
  const services = compose.services as Record<string, Record<string, unknown>>;

  it('is valid against the Compose Specification JSON schema', () => {
    expect(composeDraft).toMatch(/draft\/2019-09/);
    expect(errorsOf(validateCompose, compose)).toBe('');
  });

  it('the schema check is not a no-op: an unknown service key is rejected', () => {
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    broken.services.web!.stop_grace_periods = '30s';
    expect(errorsOf(validateCompose, broken)).toMatch(/additional/);
  });

  it('runs redis, web, worker and exactly one beat', () => {
    expect(Object.keys(services).sort()).toEqual(['beat', 'redis', 'web', 'worker']);
    const roles = Object.values(services).map((s) => (s.environment as Record<string, string> | undefined)?.ROLE);
    expect(roles.filter((r) => r === 'beat')).toHaveLength(1);
    expect(services.beat!.deploy).toBeUndefined();
    expect(services.beat!.scale).toBeUndefined();
  });

  for (const name of ['web', 'worker', 'beat']) {
    it(`${name}: stop_grace_period > DRAIN_DELAY + STOP_TIMEOUT + ESCALATION_GRACE as the supervisor resolves them`, () => {
      const service = services[name]!;
      const build = service.build as { dockerfile: string; args: Record<string, string> };
      const dir = Object.entries(SERVICE_DOCKERFILES).find(([, path]) => path === build.dockerfile)?.[0];
      expect(dir, `${name}: build.dockerfile ${build.dockerfile}`).toBeDefined();
      expect(build.args.BASE_IMAGE).toBeTruthy();
      const env = { ...imageEnv(dir!), ...(service.environment as Record<string, string>) };
      const plan = printPlan(env);
      expect(plan.role).toBe(name);
      expect(composeDurationMs(String(service.stop_grace_period)) / 1000).toBeGreaterThan(stopBudgetSeconds(plan));
    });
  }

  it("healthchecks ask the supervisor's probe endpoint (web /ready, worker and beat /live) with no Python process", () => {
    for (const [name, path] of [
      ['web', '/ready'],
      ['worker', '/live'],
      ['beat', '/live'],
    ] as const) {
      const service = services[name]!;
      const build = service.build as { dockerfile: string };
      const dir = Object.entries(SERVICE_DOCKERFILES).find(([, file]) => file === build.dockerfile)![0];
      const plan = printPlan({ ...imageEnv(dir), ...(service.environment as Record<string, string>) });
      const test = (service.healthcheck as { test: string[] }).test;
      expect(test.slice(0, 3), name).toEqual(['CMD', 'bash', '-c']);
      expect(test[3], name).toContain(`/dev/tcp/127.0.0.1/${plan.settings.probe_port}`);
      expect(test[3], name).toContain(`GET ${path} `);
      expect(test.join(' '), name).not.toMatch(/python|curl|\$/);
    }
    const worker = services.worker!.environment as Record<string, string>;
    expect(worker.PROBE_HEARTBEAT_FILE, 'the heartbeat lives on the tmpfs').toMatch(/^\/tmp\//);
    expect([services.worker!.tmpfs].flat()).toContain('/tmp');
  });

  it('the hardening of the Kubernetes manifests', () => {
    for (const name of ['web', 'worker', 'beat']) {
      expect(services[name]!.read_only).toBe(true);
      expect(services[name]!.cap_drop).toEqual(['ALL']);
    }
  });

  it('sets no secret-looking variable in plain text', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries((service.environment as Record<string, string> | undefined) ?? {})) {
        expect(secretLooking(key, String(value)), `${name}: ${key}`).toBe(false);
      }
    }
  });
});

// ---- Kubernetes ------------------------------------------------------------------------------------

interface PodTemplate {
  metadata?: unknown;
  spec: {
    terminationGracePeriodSeconds?: number;
    shareProcessNamespace?: boolean;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    containers: Container[];
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}

interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

/** Kubernetes' defaults for the probe timing fields the manifests leave out. */
function timing(probe: Probe) {
  return { period: probe.periodSeconds ?? 10, timeout: probe.timeoutSeconds ?? 1, failures: probe.failureThreshold ?? 3 };
}

function podTemplateOf(doc: Record<string, unknown>): PodTemplate | undefined {
  const spec = doc.spec as Record<string, any> | undefined;
  switch (doc.kind) {
    case 'Deployment':
    case 'Job':
      return spec?.template as PodTemplate;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template as PodTemplate;
    default:
      return undefined;
  }
}
function serviceDirOf(image: string): string {
  const name = image.split('/').at(-1)!.split(/[:@]/)[0]!;
  return name.replace(/-/g, '_');
}
function plainEnv(container: Container): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

describe('deploy/k8s', () => {
  const docs = loadK8s();
  const workloads = docs.filter((d) => podTemplateOf(d.doc));
  const byName = (kind: string, name: string): K8sDocument => {
    const found = docs.find((d) => d.doc.kind === kind && (d.doc.metadata as { name: string }).name === name);
    if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
    return found;
  };

  it('every document is valid against the (strict) Kubernetes schema', () => {
    expect(docs.length).toBeGreaterThanOrEqual(6);
    for (const { file, doc } of docs) expect(errorsOf(validateK8s, doc), `${file} ${String(doc.kind)}`).toBe('');
  });

  it('the schema check is not a no-op: a misspelt field, a wrong type and a bad restartPolicy are rejected', () => {
    const deployment = byName('Deployment', 'eveai-web').doc;
    const typo = structuredClone(deployment) as any;
    typo.spec.template.spec.terminationGracePeriodSecond = 40;
    expect(errorsOf(validateK8s, typo)).toMatch(/additional properties/);
    const wrongType = structuredClone(deployment) as any;
    wrongType.spec.replicas = '2';
    expect(errorsOf(validateK8s, wrongType)).toMatch(/must be integer/);
    const job = structuredClone(byName('Job', 'eveai-migrate').doc) as any;
    job.spec.template.spec.restartPolicy = 'Always';
    expect(errorsOf(validateK8s, job)).not.toBe('');
  });

  it('has the web, worker and beat Deployments, the migration Job and the nightly clean-up CronJob', () => {
    expect(workloads.map((w) => `${String(w.doc.kind)}/${(w.doc.metadata as { name: string }).name}`).sort()).toEqual([
      'CronJob/eveai-cleanup',
      'Deployment/eveai-beat',
      'Deployment/eveai-web',
      'Deployment/eveai-worker',
      'Job/eveai-migrate',
    ]);
  });

  it('terminationGracePeriodSeconds > DRAIN_DELAY + STOP_TIMEOUT + ESCALATION_GRACE (+ preStop sleep) everywhere', () => {
    for (const { file, doc } of workloads) {
      const pod = podTemplateOf(doc)!;
      expect(pod.spec.terminationGracePeriodSeconds, `${file}: set it explicitly`).toBeTypeOf('number');
      for (const container of pod.spec.containers) {
        const env = { ...imageEnv(serviceDirOf(container.image)), ...plainEnv(container) };
        const oneOff = doc.kind !== 'Deployment';
        const plan = printPlan(env, oneOff ? container.args!.slice(SUPERVISOR_CMD.length + 1) : []);
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        expect(pod.spec.terminationGracePeriodSeconds!, `${file}/${container.name}`).toBeGreaterThan(stopBudgetSeconds(plan) + preStop);
      }
    }
  });

  it('keeps tini as PID 1: no container sets `command`, no pod shares its process namespace', () => {
    for (const { file, doc } of workloads) {
      const pod = podTemplateOf(doc)!;
      expect(pod.spec.shareProcessNamespace ?? false, file).toBe(false);
      for (const container of pod.spec.containers) expect(container.command, `${file}/${container.name}`).toBeUndefined();
    }
  });

  it('Jobs and CronJobs run their command through the supervisor one-off mode', () => {
    for (const { file, doc } of workloads.filter((w) => w.doc.kind !== 'Deployment')) {
      for (const container of podTemplateOf(doc)!.spec.containers) {
        expect(container.args!.slice(0, 3), file).toEqual([...SUPERVISOR_CMD, '--']);
        expect(container.args!.length, file).toBeGreaterThan(3);
        expect(printPlan({}, container.args!.slice(3)).role).toBe('command');
      }
    }
  });

  it('Deployments run the role their name says, in the image that carries it', () => {
    const expected: Record<string, [string, string]> = {
      'eveai-web': ['web', 'eveai_app'],
      'eveai-worker': ['worker', 'eveai_workers'],
      'eveai-beat': ['beat', 'eveai_workers'],
    };
    for (const [name, [role, dir]] of Object.entries(expected)) {
      const container = podTemplateOf(byName('Deployment', name).doc)!.spec.containers[0]!;
      expect(serviceDirOf(container.image)).toBe(dir);
      expect(printPlan({ ...imageEnv(dir), ...plainEnv(container) }).role).toBe(role);
    }
  });

  it('web: gunicorn binds the named port http, and a drain comes before the stop', () => {
    const container = podTemplateOf(byName('Deployment', 'eveai-web').doc)!.spec.containers[0]!;
    const plan = printPlan({ ...imageEnv('eveai_app'), ...plainEnv(container) });
    const bind = plan.argv[plan.argv.indexOf('-b') + 1]!;
    expect(bind).toBe(`0.0.0.0:${container.ports!.find((p) => p.name === 'http')!.containerPort}`);
    expect(plan.settings.drain_delay_ms > 0 || (container.lifecycle?.preStop?.sleep?.seconds ?? 0) > 0).toBe(true);
  });

  it("every Deployment is probed over httpGet at the supervisor's endpoint: /live for liveness, /ready for web readiness", () => {
    const expected: Record<string, { readiness?: string; liveness: string; startup?: string }> = {
      'eveai-web': { readiness: '/ready', liveness: '/live', startup: '/ready' },
      'eveai-worker': { liveness: '/live', startup: '/live' },
      'eveai-beat': { liveness: '/live' },
    };
    for (const [name, paths] of Object.entries(expected)) {
      const { file, doc } = byName('Deployment', name);
      const container = podTemplateOf(doc)!.spec.containers[0]!;
      const plan = printPlan({ ...imageEnv(serviceDirOf(container.image)), ...plainEnv(container) });
      expect(plan.settings.probe_port, `${file}: PROBE_PORT`).toBeDefined();
      const port = container.ports!.find((p) => p.containerPort === plan.settings.probe_port);
      expect(port?.name, `${file}: a named container port for PROBE_PORT`).toBeDefined();
      const probes = { readiness: container.readinessProbe, liveness: container.livenessProbe, startup: container.startupProbe };
      for (const kind of ['readiness', 'liveness', 'startup'] as const) {
        const probe = probes[kind];
        expect(probe?.httpGet?.path, `${file}: ${kind}Probe`).toBe(paths[kind]);
        if (!probe) continue;
        expect(probe.httpGet!.port, `${file}: ${kind}Probe port`).toBe(port!.name);
        const { period, timeout } = timing(probe);
        expect(timeout, `${file}: ${kind}Probe timeout below its period`).toBeLessThan(period);
      }
    }
  });

  it('web readiness turns false within DRAIN_DELAY, and nothing restarts a pod during its stop budget', () => {
    for (const { file, doc } of workloads.filter((w) => w.doc.kind === 'Deployment')) {
      const pod = podTemplateOf(doc)!;
      const container = pod.spec.containers[0]!;
      const plan = printPlan({ ...imageEnv(serviceDirOf(container.image)), ...plainEnv(container) });
      if (container.readinessProbe) {
        const { period, failures } = timing(container.readinessProbe);
        expect(period * failures * 1000, `${file}: readiness false within DRAIN_DELAY`).toBeLessThanOrEqual(plan.settings.drain_delay_ms);
      }
      // /live passes while a stop runs, so only a hang that began before the stop can restart the pod; the
      // restart itself then gets the whole terminationGracePeriodSeconds, which already covers the budget.
      expect(pod.spec.terminationGracePeriodSeconds, file).toBeGreaterThan(stopBudgetSeconds(plan));
    }
  });

  it('worker: the heartbeat file is on a writable volume and its maximum age fits the liveness probe', () => {
    const { file, doc } = byName('Deployment', 'eveai-worker');
    const container = podTemplateOf(doc)!.spec.containers[0]!;
    const plan = printPlan({ ...imageEnv('eveai_workers'), ...plainEnv(container) });
    const heartbeat = plan.settings.heartbeat_file as string;
    const maxAgeMs = plan.settings.heartbeat_max_age_ms as number;
    expect(heartbeat, `${file}: PROBE_HEARTBEAT_FILE`).toBeDefined();
    expect(
      container.volumeMounts!.some((m) => heartbeat.startsWith(`${m.mountPath}/`)),
      `${file}: ${heartbeat} on a mounted volume`,
    ).toBe(true);
    // The app writes the first heartbeat once the consumer runs and refreshes it every max-age / 4.
    const startup = timing(container.startupProbe!);
    expect(startup.period * startup.failures * 1000, `${file}: the startup probe outwaits a heartbeat interval`).toBeGreaterThan(
      maxAgeMs / 4,
    );
  });

  it('beat: one replica, strategy Recreate, and the manifest says why', () => {
    const { file, doc } = byName('Deployment', 'eveai-beat');
    const spec = doc.spec as { replicas: number; strategy: { type: string } };
    expect(spec.replicas).toBe(1);
    expect(spec.strategy.type).toBe('Recreate');
    expect(read(file)).toMatch(/#.*two beats.*twice|#.*twice/i);
  });

  it('every pod runs as the image user 10001 with runAsNonRoot', () => {
    const uid = Number(stageArgs(parseDockerfile(BASE_DOCKERFILE).stages.at(-1)!).get('UID'));
    for (const { file, doc } of workloads) {
      const sc = podTemplateOf(doc)!.spec.securityContext;
      expect(sc?.runAsNonRoot, file).toBe(true);
      expect(sc?.runAsUser, file).toBe(uid);
    }
  });

  it('passes secrets by reference only', () => {
    for (const { file, doc } of workloads) {
      for (const container of podTemplateOf(doc)!.spec.containers) {
        for (const e of container.env ?? []) {
          if (e.value !== undefined) expect(secretLooking(e.name, e.value), `${file}: ${e.name}`).toBe(false);
        }
        expect(container.env?.find((e) => e.name === 'REDIS_URL')?.valueFrom, `${file}: REDIS_URL`).toBeDefined();
      }
    }
  });

  it('kustomization.yaml lists existing manifests and maps every image the workloads use', () => {
    const kustomization = docs.find((d) => d.doc.kind === 'Kustomization')!.doc as {
      resources: string[];
      images: { name: string }[];
    };
    for (const resource of kustomization.resources) expect(existsSync(join(ROOT, 'deploy', 'k8s', resource)), resource).toBe(true);
    const mapped = new Set(kustomization.images.map((i) => i.name));
    for (const { file, doc } of workloads) {
      for (const container of podTemplateOf(doc)!.spec.containers)
        expect(mapped.has(container.image), `${file}: ${container.image}`).toBe(true);
    }
  });
});
