// Turns a compose_dev.yaml service into `podman run` arguments, so the e2e runs the services the way the
// compose file defines them (environment, read-only root, tmpfs, capabilities, security options, named
// volumes, command) instead of a second hand-written copy. Networking is the one deliberate difference:
// all containers share the redis container's network namespace (loopback only, no ports on the host,
// no CNI), and the sandbox's base_hosts_file resolves the compose service name "redis" to 127.0.0.1.
import { composeDurationMs } from './files.js';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  read_only?: boolean;
  tmpfs?: string[] | string;
  cap_drop?: string[];
  security_opt?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] | string };
  [key: string]: unknown;
}

/** Keys that only matter to a compose engine's networking, ordering or build, not to the container itself. */
const NOT_APPLIED = new Set(['image', 'build', 'ports', 'depends_on', 'healthcheck', 'stop_grace_period']);
const APPLIED = new Set(['command', 'environment', 'read_only', 'tmpfs', 'cap_drop', 'security_opt', 'volumes']);

export interface PodmanRunSpec {
  /** Options for `podman run` (before the image). */
  options: string[];
  /** Command after the image (empty: the image's CMD). */
  command: string[];
  /** Named volumes the options refer to (to create first). */
  volumes: string[];
  /** stop_grace_period in whole seconds, for `podman stop -t`. */
  stopSeconds: number;
  healthcheck?: string[];
}

export function podmanRunSpec(
  name: string,
  service: ComposeService,
  volumePrefix: string,
  extraEnv: Record<string, string> = {},
): PodmanRunSpec {
  const unknown = Object.keys(service).filter((k) => !NOT_APPLIED.has(k) && !APPLIED.has(k));
  if (unknown.length > 0) throw new Error(`compose service ${name}: the e2e does not know how to apply ${unknown.join(', ')}`);
  const options: string[] = [];
  const volumes: string[] = [];
  const env = { ...(service.environment ?? {}), ...extraEnv };
  for (const [key, value] of Object.entries(env)) options.push('--env', `${key}=${value ?? ''}`);
  if (service.read_only) options.push('--read-only');
  for (const path of [service.tmpfs ?? []].flat()) options.push('--tmpfs', path);
  for (const cap of service.cap_drop ?? []) options.push('--cap-drop', cap);
  for (const opt of service.security_opt ?? []) {
    // compose writes no-new-privileges:true, podman wants the bare option
    options.push('--security-opt', opt === 'no-new-privileges:true' ? 'no-new-privileges' : opt);
  }
  for (const volume of service.volumes ?? []) {
    const [source, target, ...rest] = volume.split(':');
    if (!source || !target || source.startsWith('/') || source.startsWith('.'))
      throw new Error(`compose service ${name}: only named volumes are supported, got ${volume}`);
    volumes.push(`${volumePrefix}${source}`);
    options.push('--volume', [`${volumePrefix}${source}`, target, ...rest].join(':'));
  }
  if (typeof service.command === 'string') throw new Error(`compose service ${name}: write command as a list (exec form), not a string`);
  const command = service.command ?? [];
  const test = service.healthcheck?.test;
  const healthcheck = Array.isArray(test) && test[0] === 'CMD' ? test.slice(1) : undefined;
  const stopSeconds = Math.ceil(composeDurationMs(service.stop_grace_period ?? '10s') / 1000);
  return { options, command, volumes, stopSeconds, ...(healthcheck ? { healthcheck } : {}) };
}
