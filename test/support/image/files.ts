// Reading the repository's image and deployment files: Dockerfiles (dockerfile-ast), compose and Kubernetes
// YAML (yaml), and the supervisor's own view of an environment (`dist/supervisor.js --print`).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { parse, parseAllDocuments } from 'yaml';
import { collectSupervisorLines } from '../log-lines.js';
import { ROOT, requireBuild } from '../paths.js';

export const BASE_DOCKERFILE = 'Dockerfile.base';
/** Service directory -> its Dockerfile, as in the migration plan. */
export const SERVICE_DOCKERFILES: Record<string, string> = {
  eveai_app: 'docker/eveai_app/Dockerfile',
  eveai_api: 'docker/eveai_api/Dockerfile',
  eveai_workers: 'docker/eveai_workers/Dockerfile',
};

export function read(relativePath: string): string {
  return readFileSync(join(ROOT, relativePath), 'utf8');
}

// ---- Dockerfiles ---------------------------------------------------------------------------------

export interface Stage {
  from: Instruction;
  /** The FROM argument with build args replaced by their defaults. */
  image: string;
  name: string | null;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  path: string;
  ast: Dockerfile;
  /** ARGs before the first FROM, with their default values (null = no default). */
  globalArgs: Map<string, string | null>;
  stages: Stage[];
}

export function parseDockerfile(relativePath: string): ParsedDockerfile {
  const ast = DockerfileParser.parse(read(relativePath));
  const globalArgs = new Map<string, string | null>();
  for (const arg of ast.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) globalArgs.set(property.getName(), property.getValue());
  }
  const stages: Stage[] = [];
  for (const instruction of ast.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction
        .getArguments()
        .map((a) => a.getValue())
        .filter((v) => !v.startsWith('--'));
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({
        from: instruction,
        image: substitute(args[0] ?? '', globalArgs),
        name: asIndex >= 0 ? (args[asIndex + 1] ?? null) : null,
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { path: relativePath, ast, globalArgs, stages };
}

/** Replaces ${NAME} / $NAME by the value in `values` (unknown names stay as they are). */
export function substitute(text: string, values: Map<string, string | null>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => values.get(name) ?? whole);
}

/** ARG defaults declared inside a stage (ARG after FROM). */
export function stageArgs(stage: Stage): Map<string, string | null> {
  const values = new Map<string, string | null>();
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() !== 'ARG') continue;
    const [first] = instruction.getArguments();
    if (!first) continue;
    const [name, ...rest] = first.getValue().split('=');
    values.set(name!, rest.length > 0 ? rest.join('=') : null);
  }
  return values;
}

/** ENV name=value pairs set by a stage, in order (later wins). */
export function stageEnv(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() !== 'ENV') continue;
    for (const property of (
      instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties()) {
      env.set(property.getName(), property.getValue() ?? '');
    }
  }
  return env;
}

/** The JSON array of an exec-form ENTRYPOINT/CMD, or null for shell form. */
export function execForm(instruction: Instruction): string[] | null {
  const raw = (instruction.getArgumentsContent() ?? '').trim();
  if (!raw.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  } catch {
    return null;
  }
}

/** Name/value pairs that look like a secret baked into an image or a manifest. */
export function secretLooking(name: string, value: string): boolean {
  if (/(SECRET|PASSW(OR)?D|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY|AUTH)/i.test(name)) return true;
  return /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value); // URL with user:password@
}

// ---- YAML ------------------------------------------------------------------------------------------

/** compose_dev.yaml, with YAML merge keys (<<) resolved as compose does. */
export function loadCompose(): Record<string, unknown> {
  return parse(read('compose_dev.yaml'), { merge: true }) as Record<string, unknown>;
}

export interface K8sDocument {
  file: string;
  doc: Record<string, unknown>;
}

export function loadK8s(): K8sDocument[] {
  const dir = join(ROOT, 'deploy', 'k8s');
  const docs: K8sDocument[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`deploy/k8s/${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      const doc = document.toJS() as Record<string, unknown> | null;
      if (doc) docs.push({ file: `deploy/k8s/${file}`, doc });
    }
  }
  return docs;
}

// ---- durations -------------------------------------------------------------------------------------

/** Compose duration ("30s", "1m30s", "1.5s", "500ms") in milliseconds. */
export function composeDurationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us)/g;
  let total = 0;
  let consumed = '';
  for (const match of text.matchAll(re)) {
    const n = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? n * 3_600_000 : unit === 'm' ? n * 60_000 : unit === 's' ? n * 1000 : unit === 'ms' ? n : n / 1000;
    consumed += match[0];
  }
  if (consumed !== text || consumed === '') throw new Error(`not a compose duration: ${text}`);
  return total;
}

// ---- the supervisor's view --------------------------------------------------------------------------

export interface PrintedPlan {
  role: string;
  argv: string[];
  settings: { stop_timeout_ms: number; drain_delay_ms: number; escalation_grace_ms: number; [key: string]: unknown };
}

/**
 * The plan the supervisor resolves for this environment (and one-off command), via `--print`.
 * Throws with the supervisor's own log when the configuration is invalid (exit 78).
 */
export function printPlan(env: Record<string, string>, command: string[] = []): PrintedPlan {
  const argv = [requireBuild(), '--print', ...(command.length > 0 ? ['--', ...command] : [])];
  const result = execaSync(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
  });
  collectSupervisorLines(result.stderr);
  if (result.exitCode !== 0) {
    throw new Error(
      `supervisor --print exited ${result.exitCode ?? result.signal} for ${JSON.stringify(env)} ${command.join(' ')}:\n${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as PrintedPlan;
}

/** Seconds the whole stop sequence may take at most: drain + graceful wait + escalation grace. */
export function stopBudgetSeconds(plan: PrintedPlan): number {
  const s = plan.settings;
  return (s.drain_delay_ms + s.stop_timeout_ms + s.escalation_grace_ms) / 1000;
}

/** Environment a service image starts with: the base image's ENV, then the service Dockerfile's. */
export function imageEnv(serviceDir: string): Record<string, string> {
  const base = parseDockerfile(BASE_DOCKERFILE);
  const service = parseDockerfile(SERVICE_DOCKERFILES[serviceDir]!);
  return Object.fromEntries([...stageEnv(base.stages.at(-1)!), ...stageEnv(service.stages.at(-1)!)]);
}
