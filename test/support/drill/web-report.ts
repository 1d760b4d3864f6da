/** The web drill's section of bench/drill-results.md: one row per deploy, then how it was measured. */
import os from 'node:os';
import type { RollResult } from './web-deploy.js';
import { HEALTH_CHECK } from './haproxy.js';
import { connectionsFor, type DrillRun, LOADS, type WebDrillParameters } from './web-drill.js';
import type { LoadResult } from './wrk.js';

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Failed requests of one roll, over both load generators. */
export function failedIn(roll: RollResult): number {
  return Object.values(roll.load).reduce((sum, load) => sum + load.failed, 0);
}

/** Connection and response errors the balancer itself counted during the rolls (retried or not). */
export function balancerErrorsOf(run: DrillRun): number {
  return run.result.rolls.reduce((sum, roll) => sum + roll.balancer.econ + roll.balancer.eresp, 0);
}

function failedOf(run: DrillRun, mode: string): number {
  return run.result.rolls.reduce((sum, roll) => sum + (roll.load[mode]?.failed ?? 0), 0);
}

/** What wrk counted, by kind, where anything failed: "read 93, status 2". */
function kinds(loads: LoadResult[]): string {
  const totals: Record<string, number> = {};
  for (const load of loads) for (const [kind, count] of Object.entries(load.errors)) totals[kind] = (totals[kind] ?? 0) + count;
  return Object.entries(totals)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
}

/** One line of the table per deploy. */
export function runRow(run: DrillRun): string {
  const { rolls } = run.result;
  const stops = rolls.map((r) => r.stopMs);
  const requests = rolls.reduce((sum, r) => sum + Object.values(r.load).reduce((s, l) => s + l.requests, 0), 0);
  const failed = rolls.reduce((sum, r) => sum + failedIn(r), 0);
  const retried = rolls.reduce((sum, r) => sum + r.balancer.wretr + r.balancer.wredis, 0);
  const cells = [
    run.versions.name,
    run.balancer.label,
    run.variant.id,
    String(rolls.length),
    ...LOADS.map((mode) => String(failedOf(run, mode))),
    failed > 0 ? `**${failed}**` : '0',
    String(Math.max(0, ...rolls.map(failedIn))),
    String(requests),
    String(balancerErrorsOf(run)),
    run.balancer.mode === 'http' ? String(retried) : '—',
    `${seconds(median(stops))} / ${seconds(Math.max(...stops))}`,
    seconds(median(rolls.map((r) => r.rollMs))),
    seconds(run.result.deployMs),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The markdown of the web section: the figures, then the method. */
export function webDrillSection(
  runs: readonly DrillRun[],
  parameters: WebDrillParameters,
  versions: Record<string, string>,
  errors: readonly string[] = [],
): string {
  const header = [
    'version set',
    'balancer',
    'runner',
    'rolls',
    ...LOADS.map((mode) => `failed: ${mode === 'close' ? 'one connection per request' : mode}`),
    'failed in all',
    'worst roll',
    'requests',
    'errors the balancer saw',
    'retried by the balancer',
    'stop time per roll, median / max (s)',
    'roll time, median (s)',
    'deploy time (s)',
  ];
  const failures = runs.filter((run) => run.result.rolls.some((roll) => failedIn(roll) > 0));
  const steadyFailures = runs.filter((run) => Object.values(run.result.steady).some((load) => load.failed > 0));
  // Two counters that know nothing of each other: without retries, every error HAProxy saw reached a client.
  const l4 = runs.filter((run) => run.balancer.mode === 'tcp');
  const l4Failed = l4.reduce((sum, run) => sum + run.result.rolls.reduce((s, roll) => s + failedIn(roll), 0), 0);
  const l4Errors = l4.reduce((sum, run) => sum + balancerErrorsOf(run), 0);
  const rates = runs.flatMap((run) =>
    run.result.rolls.map((roll) => Object.values(roll.load).reduce((sum, l) => sum + (l.requests * 1000) / Math.max(1, l.ms), 0)),
  );
  const lines = [
    '## Web',
    '',
    `Rolling replacements of the web role behind a real HAProxy, under closed-loop load (\`DRILL_ONLY=web npm run drill\`, ` +
      `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores shared with other work).`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...runs.map(runRow),
    '',
    failures.length === 0 ? 'No roll failed a request.' : 'Failed requests per roll, where any failed (what wrk counted, by kind):',
    ...failures.map(
      (run) =>
        `- ${run.versions.name}, ${run.balancer.label}, ${run.variant.id}: ` +
        `${run.result.rolls.map(failedIn).join(', ')} (${kinds(run.result.rolls.flatMap((r) => Object.values(r.load)))})`,
    ),
    '',
    steadyFailures.length === 0
      ? `Before the first roll of every deploy the same load ran ${seconds(parameters.settleMs)} s against the untouched replicas: 0 failed.`
      : `**Failures before the first roll** (the drill's own, not a roll's): ${steadyFailures.map((r) => `${r.versions.name} ${r.balancer.id} ${r.variant.id}`).join('; ')}.`,
    ...(errors.length === 0 ? [] : ['', '**Deploys that could not be carried out:**', ...errors.map((e) => `- ${e}`)]),
    '',
    '### How it was measured',
    '',
    '- **Replicas**: 3 slots on loopback ports, 2 replicas running; each replica is started as the image starts it ' +
      "(test/support/real/container.ts: a PID namespace, tini as PID 1, the supervisor — or the migration plan's start.sh — " +
      'as PID 2, uid 10001), `ROLE=web` with its defaults (1 gevent worker), `PROBE_PORT` of its own.',
    '- **A roll**: start a replica in the free slot; wait until the balancer routes to it; SIGTERM to the oldest ' +
      "replica's PID 1 (what the kubelet sends); wait until it has exited and the balancer has it out of rotation. " +
      '*Stop time*: SIGTERM to exit. *Roll time*: start of the new replica to the old one gone; *deploy time*: the sum over ' +
      "the deploy's rolls — what the stops cost when the next replacement waits for a free slot.",
    `- **Load**: wrk 4.1, closed loop on \`/slow?s=0.05\` through the balancer, two generators side by side — keep-alive and ` +
      `one connection per request (\`Connection: close\`) — with ${connectionsFor(parameters.rate)} connections each ` +
      `(${Math.round(median(rates))} requests/s in all, median over rolls). One wrk run per roll, stopped ` +
      `${seconds(parameters.settleMs)} s after the roll's end. *Failed* = wrk's connect + read + write errors, responses ` +
      'with a status above 399, and responses slower than 10 s (test/support/drill/wrk.ts says what wrk counts and how ' +
      'the drill bounds what it cannot: every wait of the balancer is bounded, so no request hangs uncounted). ' +
      `A second count, HAProxy's own (*errors the balancer saw*: its connection and response errors): in L4 mode, ` +
      `which never retries, it counted ${l4Errors} where wrk counted ${l4Failed} failed requests.`,
    `- **Balancers** (HAProxy, test/support/drill/haproxy.ts): *HTTP* = \`mode http\`, \`retries 3\`, \`option redispatch\`, ` +
      '`retry-on all-retryable-errors`; *L4* = `mode tcp`, `retries 0`, as kube-proxy. *Health checks*: ' +
      `\`option httpchk GET /ready\` on the probe port (start.sh, which has none: the app's \`/healthz\`), inter ` +
      `${HEALTH_CHECK.interMs / 1000} s, fall ${HEALTH_CHECK.fall}, rise ${HEALTH_CHECK.rise}, timeout ${HEALTH_CHECK.timeoutMs / 1000} s. ` +
      `*kube-proxy-like*: no checks; a slot enters the rotation when its replica is ready and leaves it ` +
      `(\`disable server\`) ${seconds(parameters.propagationMs)} s after the SIGTERM, open connections kept ` +
      '(the choice of delay: test/support/drill/web-drill.ts). *Retried by the balancer*: its retries + redispatches, ' +
      'the failures it hid from the client.',
    `- **Rolls**: ${parameters.rolls} per balancer and version set for the supervisor with its defaults; ` +
      `${parameters.compareRolls} for start.sh and the other DRAIN_DELAY values (time-bound).`,
    ...Object.entries(versions).map(([name, text]) => `- **${name}**: ${text}`),
  ];
  return lines.join('\n');
}
