/**
 * The web drill's matrix and parameters, shared by the benchmark (bench/drill/web.measure.ts, the full run) and the
 * bounded test (test/drill/web.test.ts): which balancers, which runners and settings, how many rolls, how much load.
 *
 * Balancers (test/support/drill/haproxy.ts), each in front of the same kind of replicas:
 *   http-checks      HTTP, retries + redispatch, health checks on the readiness URL: HAProxy, Envoy, an ingress
 *   tcp-checks       L4, no retries, health checks on the readiness URL: a cloud network balancer
 *   tcp-kube-proxy   L4, no retries, removed a propagation delay after the SIGTERM: a Kubernetes Service
 *   http-kube-proxy  HTTP, retries + redispatch, removed the same way: an ingress controller that follows the
 *                    Service's endpoints instead of checking the pods itself
 *
 * The kube-proxy-like propagation delay (default 2 s, DRILL_WEB_PROPAGATION_S): the EndpointSlice controller marks
 * the pod terminating when it is deleted, in parallel with the kubelet's SIGTERM; every kube-proxy then waits up to
 * its iptables `minSyncPeriod` (default 1 s, kube-proxy's configuration reference) before it rewrites its rules,
 * and the watch events on the way (API server -> controller -> API server -> kube-proxy) take their own
 * hundreds of milliseconds on a busy control plane. 2 s is that path on a small cluster; large clusters take longer
 * (kube-proxy's iptables runs alone took seconds there, kubernetes/kubernetes#92836), which is what the margin of
 * the 5 s default is for.
 */
import { spawnSync } from 'node:child_process';
import { requireProgram } from '../command.js';
import { BOOKWORM, TRIXIE, type VersionSet } from '../real/versions.js';
import type { Runner } from '../real/container.js';
import type { BalancerMode, Removal } from './haproxy.js';
import { REQUEST_SECONDS, runWebDeploy, type WebDeployResult } from './web-deploy.js';
import type { ConnectionMode } from './wrk.js';

export interface Balancer {
  id: string;
  mode: BalancerMode;
  removal: Removal;
  /** For the report: what kind of balancer this stands for. */
  label: string;
}

export const BALANCERS: readonly Balancer[] = [
  { id: 'http-checks', mode: 'http', removal: 'health-checks', label: 'HTTP, retries + redispatch, health checks' },
  { id: 'tcp-checks', mode: 'tcp', removal: 'health-checks', label: 'L4, no retries, health checks' },
  { id: 'tcp-kube-proxy', mode: 'tcp', removal: 'kube-proxy', label: 'L4, no retries, kube-proxy-like removal' },
  { id: 'http-kube-proxy', mode: 'http', removal: 'kube-proxy', label: 'HTTP, retries + redispatch, kube-proxy-like removal' },
];

/** A runner with its settings: the supervisor with its defaults (the claim), other DRAIN_DELAYs, start.sh. */
export interface Variant {
  id: string;
  runner: Runner;
  env: Record<string, string>;
  /** The supervisor with its defaults: the variant that must lose nothing. */
  defaults: boolean;
}

export const SUPERVISOR_DEFAULTS: Variant = { id: 'supervisor (defaults)', runner: 'supervisor', env: {}, defaults: true };
export const START_SH: Variant = { id: 'start.sh', runner: 'start.sh', env: {}, defaults: false };

export function drainVariant(seconds: number): Variant {
  return { id: `supervisor, DRAIN_DELAY=${seconds}`, runner: 'supervisor', env: { DRAIN_DELAY: String(seconds) }, defaults: false };
}

/** Both connection modes load every deploy side by side, each with half of the rate. */
export const LOADS: readonly ConnectionMode[] = ['keep-alive', 'close'];

export interface WebDrillParameters {
  /** Rolls per balancer and version set for the supervisor with its defaults. */
  rolls: number;
  /** Rolls for start.sh and the compared DRAIN_DELAYs. */
  compareRolls: number;
  /** Closed-loop requests per second to aim at, over both load generators. */
  rate: number;
  settleMs: number;
  propagationMs: number;
  versionSets: VersionSet[];
  balancers: Balancer[];
  /** DRAIN_DELAY values compared with the default. */
  drainDelays: number[];
  startSh: boolean;
}

/** The full drill's parameters (bench/drill/web.measure.ts), before DRILL_WEB_* overrides: 20 rolls for the defaults. */
export const FULL_WEB_DRILL: WebDrillParameters = {
  rolls: 20,
  compareRolls: 5,
  rate: 300,
  settleMs: 1000,
  propagationMs: 2000,
  versionSets: [BOOKWORM, TRIXIE],
  balancers: [...BALANCERS],
  drainDelays: [0, 3],
  startSh: true,
};

/** Each load generator's connections for `rate` in total: a connection makes about 1 / REQUEST_SECONDS requests a second. */
export function connectionsFor(rate: number): number {
  return Math.max(1, Math.round((rate * REQUEST_SECONDS) / LOADS.length));
}

/**
 * The parameters from the environment (DRILL_WEB_*), over `defaults`; a bad value is an error naming the variable,
 * never a silent default.
 */
export function webDrillParameters(defaults: WebDrillParameters, env: NodeJS.ProcessEnv = process.env): WebDrillParameters {
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || value < min || value > max)
      throw new Error(`${name}="${raw}": expected a number from ${min} to ${max}`);
    return value;
  };
  const list = <T>(name: string, fallback: T[], all: readonly T[], key: (item: T) => string): T[] => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    return raw.split(',').map((word) => {
      const found = all.find((item) => key(item) === word.trim());
      if (!found) throw new Error(`${name}="${raw}": "${word}" is not one of ${all.map(key).join(', ')}`);
      return found;
    });
  };
  const drains = env.DRILL_WEB_DRAIN_DELAYS;
  return {
    rolls: Math.round(number('DRILL_WEB_ROLLS', defaults.rolls, 1, 1000)),
    compareRolls: Math.round(number('DRILL_WEB_COMPARE_ROLLS', defaults.compareRolls, 0, 1000)),
    rate: number('DRILL_WEB_RATE', defaults.rate, 1, 5000),
    settleMs: number('DRILL_WEB_SETTLE_S', defaults.settleMs / 1000, 0.2, 600) * 1000,
    propagationMs: number('DRILL_WEB_PROPAGATION_S', defaults.propagationMs / 1000, 0, 60) * 1000,
    versionSets: list('DRILL_WEB_SETS', defaults.versionSets, [BOOKWORM, TRIXIE], (set) => set.name),
    balancers: list('DRILL_WEB_BALANCERS', defaults.balancers, BALANCERS, (b) => b.id),
    // Set but empty: no DRAIN_DELAY compared.
    drainDelays:
      drains === undefined
        ? defaults.drainDelays
        : drains
            .split(',')
            .filter(Boolean)
            .map((word) => checkedSeconds(word, drains)),
    startSh: env.DRILL_WEB_START_SH === undefined ? defaults.startSh : env.DRILL_WEB_START_SH !== '0',
  };
}

function checkedSeconds(word: string, raw: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(word.trim()) || Number(word) > 60)
    throw new Error(`DRILL_WEB_DRAIN_DELAYS="${raw}": expected a comma list of seconds from 0 to 60`);
  return Number(word);
}

export interface DrillRun {
  versions: VersionSet;
  balancer: Balancer;
  variant: Variant;
  result: WebDeployResult;
}

/** The variants a run compares, the supervisor with its defaults first. */
export function variantsOf(parameters: WebDrillParameters): { variant: Variant; rolls: number }[] {
  return [
    { variant: SUPERVISOR_DEFAULTS, rolls: parameters.rolls },
    ...parameters.drainDelays.map((seconds) => ({ variant: drainVariant(seconds), rolls: parameters.compareRolls })),
    ...(parameters.startSh ? [{ variant: START_SH, rolls: parameters.compareRolls }] : []),
  ].filter((entry) => entry.rolls > 0);
}

export interface DrillHooks {
  /** Sees each deploy as it ends. */
  onRun?(run: DrillRun): void;
  /**
   * A deploy that could not be carried out (a replica that never became ready, a balancer that never routed to it):
   * with this hook the drill reports it here and goes on with the next; without it, the error ends the drill.
   */
  onError?(error: unknown, where: Omit<DrillRun, 'result'>): void;
}

/**
 * Every version set x balancer x variant, one deploy each, in that order (the variants of one balancer run one
 * after the other, so their times are compared under the same conditions).
 */
export async function runWebDrill(parameters: WebDrillParameters, hooks: DrillHooks = {}): Promise<DrillRun[]> {
  const runs: DrillRun[] = [];
  for (const versions of parameters.versionSets) {
    await versions.prepare();
    for (const balancer of parameters.balancers) {
      for (const { variant, rolls } of variantsOf(parameters)) {
        try {
          const result = await runWebDeploy({
            name: `drill-web-${versions.name}-${balancer.id}-${variant.id.replace(/[^\w]+/g, '-')}`,
            versions,
            runner: variant.runner,
            env: variant.env,
            mode: balancer.mode,
            removal: balancer.removal,
            rolls,
            connections: connectionsFor(parameters.rate),
            loads: LOADS,
            propagationMs: parameters.propagationMs,
            settleMs: parameters.settleMs,
          });
          const run = { versions, balancer, variant, result };
          runs.push(run);
          hooks.onRun?.(run);
        } catch (error) {
          if (!hooks.onError) throw error;
          hooks.onError(error, { versions, balancer, variant });
        }
      }
    }
  }
  return runs;
}

/** The balancer's and the load generator's releases (the host's, whatever the version set), for the report. */
export function toolVersions(): string {
  const first = (program: string, args: string[], pattern: RegExp) =>
    pattern.exec(spawnSync(requireProgram(program), args, { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  return `HAProxy ${first('haproxy', ['-v'], /HAProxy version (\S+)/)}, wrk ${first('wrk', ['-v'], /^wrk (\S+)/)}`;
}
