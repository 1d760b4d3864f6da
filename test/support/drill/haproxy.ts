/**
 * A real load balancer for the web drill: Debian's HAProxy on loopback, with a generated configuration, in front of
 * a fixed set of replica slots (one server line per slot, each on its own port). Read and steered through its
 * runtime API over a unix socket (`show stat`, `enable server`, `disable server`), as an operator or a controller
 * would.
 *
 *   mode http   an L7 balancer that retries: `retries 3`, `option redispatch`, `retry-on all-retryable-errors`
 *               (the drill's requests are idempotent GETs, for which HAProxy's docs allow every retryable error)
 *   mode tcp    an L4 balancer that never retries (`retries 0`), as kube-proxy is: a refused connection reaches
 *               the client as a connection closed without an answer
 *
 * How it learns that a replica is going:
 *   health-checks  active checks of each slot's readiness URL (inter 2 s, fall 1, rise 1), as HAProxy, Envoy and
 *                  cloud balancers do
 *   kube-proxy     no checks: the drill adds a slot (`enable server`) once the replica is ready, as the endpoints
 *                  controller does, and removes it (`disable server`) a propagation delay after its SIGTERM;
 *                  connections already open stay open, as conntrack keeps them
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { register, tempDir, unregister } from '../cleanup.js';
import { requireProgram } from '../command.js';
import { freePort } from '../http.js';
import { killAll } from '../proc.js';
import { settlesWithin, waitFor } from '../wait.js';
import { DRILL_LOG_DIR } from './paths.js';

export type BalancerMode = 'http' | 'tcp';
export type Removal = 'health-checks' | 'kube-proxy';

/** One replica slot: where its program listens and where its readiness is asked. */
export interface Slot {
  name: string;
  port: number;
  /** The readiness URL the health checks ask (the probe endpoint's /ready, or the app's own /healthz). */
  ready: { port: number; path: string };
}

export interface BalancerOptions {
  name: string;
  mode: BalancerMode;
  removal: Removal;
  slots: readonly Slot[];
}

/** The active health checks of the `health-checks` removal: what HAProxy's, Envoy's and cloud balancers' look like. */
export const HEALTH_CHECK = { interMs: 2000, fall: 1, rise: 1, timeoutMs: 1000 } as const;

/** `show stat` columns the drill reads (HAProxy's CSV header names). */
export interface ServerStat {
  /** UP, DOWN, MAINT, "UP 1/2" while a check is pending, no check, ... */
  status: string;
  /** Sessions in total, connection errors, response errors, retries and redispatches to this server. */
  stot: number;
  econ: number;
  eresp: number;
  wretr: number;
  wredis: number;
}

export interface BackendCounters {
  /** Connection attempts that failed, responses that failed, retries and redispatches the balancer did. */
  econ: number;
  eresp: number;
  wretr: number;
  wredis: number;
  /** HTTP mode: responses with a 5xx status the balancer sent (its own 502/503 included). */
  hrsp5xx: number;
}

const BACKEND = 'replicas';
/** `show stat` status of a server the balancer sends new connections to: checked and up, or not checked at all. */
const ROUTED = ['UP', 'no check'];
const FRONTEND = 'drill';

/** The HAProxy 2.6 configuration for `options`, listening on 127.0.0.1:`port`, runtime API on `socket`. */
export function haproxyConfig(options: BalancerOptions, port: number, socket: string): string {
  const checks = options.removal === 'health-checks';
  const http = options.mode === 'http';
  const lines = [
    'global',
    `    stats socket ${socket} mode 600 level admin`,
    '    maxconn 4096',
    // Only sessions that were not normal (an error, a retry, a redispatch) are logged: the drill's evidence.
    '    log stderr format short local0 info',
    '',
    'defaults',
    `    mode ${options.mode}`,
    '    log global',
    `    option ${http ? 'httplog' : 'tcplog'}`,
    '    option dontlog-normal',
    // Every wait is bounded, so no request of the drill can hang uncounted: a stuck one ends as an error.
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    '    timeout queue 5s',
    `    timeout check ${HEALTH_CHECK.timeoutMs}ms`,
    ...(http ? ['    retries 3', '    option redispatch 1', '    retry-on all-retryable-errors'] : ['    retries 0']),
    '',
    `frontend ${FRONTEND}`,
    `    bind 127.0.0.1:${port}`,
    `    default_backend ${BACKEND}`,
    '',
    `backend ${BACKEND}`,
    '    balance roundrobin',
  ];
  if (checks) {
    // One readiness path for every slot (a drill runs one runner at a time); the port is per slot.
    const paths = new Set(options.slots.map((slot) => slot.ready.path));
    if (paths.size !== 1) throw new Error(`one readiness path for every slot, got ${[...paths].join(', ')}`);
    lines.push(`    option httpchk GET ${[...paths][0]}`, '    http-check expect status 200');
  }
  for (const slot of options.slots) {
    const server = `    server ${slot.name} 127.0.0.1:${slot.port}`;
    lines.push(
      checks
        ? `${server} check port ${slot.ready.port} inter ${HEALTH_CHECK.interMs}ms fall ${HEALTH_CHECK.fall} rise ${HEALTH_CHECK.rise}`
        : // Out of rotation until the drill adds it, as a pod is until it is ready.
          `${server} disabled`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export class HaProxy {
  private constructor(
    readonly options: BalancerOptions,
    readonly port: number,
    private readonly socket: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /** Starts HAProxy in the foreground (master-worker off, no daemon) and waits for its runtime API. */
  static async start(options: BalancerOptions): Promise<HaProxy> {
    const dir = tempDir('eveai-haproxy-');
    const port = await freePort();
    const socket = path.join(dir, 'admin.sock');
    const config = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(config, haproxyConfig(options, port, socket));
    fs.mkdirSync(DRILL_LOG_DIR, { recursive: true });
    const logFile = path.join(DRILL_LOG_DIR, `${options.name.replace(/[^\w.-]+/g, '_')}.haproxy.log`);
    const log = fs.openSync(logFile, 'w');
    // setpriv --pdeathsig: HAProxy dies with the test process even if that is killed before clean-up runs.
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', requireProgram('haproxy'), '-db', '-f', config], {
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const balancer = register(new HaProxy(options, port, socket, child, logFile));
    await waitFor(
      `${options.name}: HAProxy's runtime API`,
      async () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${fs.readFileSync(logFile, 'utf8')}`);
        return fs.existsSync(socket) && (await balancer.command('show info').catch(() => '')).includes('Name: HAProxy');
      },
      10_000,
      50,
    );
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** One runtime API command on a fresh connection; resolves with the whole answer. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const conn = net.connect({ path: this.socket });
      let answer = '';
      conn.setEncoding('utf8');
      conn.setTimeout(5000, () => conn.destroy(new Error(`haproxy runtime API: no answer to ${line}`)));
      conn.on('connect', () => conn.write(`${line}\n`));
      conn.on('data', (chunk: string) => (answer += chunk));
      conn.on('end', () => resolve(answer));
      conn.on('error', reject);
    });
  }

  /** Every slot's server line of `show stat`, by slot name. */
  async servers(): Promise<Map<string, ServerStat>> {
    const servers = new Map<string, ServerStat>();
    for (const row of parseStat(await this.command('show stat'))) {
      if (row.pxname !== BACKEND || row.svname === 'BACKEND' || row.svname === 'FRONTEND') continue;
      servers.set(row.svname!, {
        status: row.status ?? '',
        stot: num(row.stot),
        econ: num(row.econ),
        eresp: num(row.eresp),
        wretr: num(row.wretr),
        wredis: num(row.wredis),
      });
    }
    return servers;
  }

  /** The backend's totals since HAProxy started (a drill takes differences). */
  async counters(): Promise<BackendCounters> {
    const row = parseStat(await this.command('show stat')).find((r) => r.pxname === BACKEND && r.svname === 'BACKEND');
    if (!row) throw new Error('show stat: no BACKEND row');
    return { econ: num(row.econ), eresp: num(row.eresp), wretr: num(row.wretr), wredis: num(row.wredis), hrsp5xx: num(row.hrsp_5xx) };
  }

  /** Waits until the balancer routes to `slot` (its status is UP). */
  async waitUp(slot: string, timeoutMs: number): Promise<void> {
    await waitFor(
      `${this.options.name}: ${slot} UP in the balancer`,
      async () => ROUTED.includes((await this.servers()).get(slot)?.status ?? ''),
      timeoutMs,
      50,
    );
  }

  /** Waits until the balancer no longer routes new connections to `slot`. */
  async waitOut(slot: string, timeoutMs: number): Promise<void> {
    await waitFor(
      `${this.options.name}: ${slot} out of rotation`,
      async () => {
        const status = (await this.servers()).get(slot)?.status ?? '';
        return status.startsWith('DOWN') || status.startsWith('MAINT');
      },
      timeoutMs,
      50,
    );
  }

  /** kube-proxy-like: put a slot into rotation (an endpoint added). */
  async enable(slot: string): Promise<void> {
    await this.expectEmptyAnswer(`enable server ${BACKEND}/${slot}`);
  }

  /** kube-proxy-like: take a slot out of rotation (an endpoint removed); open connections stay open. */
  async disable(slot: string): Promise<void> {
    await this.expectEmptyAnswer(`disable server ${BACKEND}/${slot}`);
  }

  private async expectEmptyAnswer(line: string): Promise<void> {
    const answer = (await this.command(line)).trim();
    if (answer !== '') throw new Error(`haproxy runtime API: ${line}: ${answer}`);
  }

  /** TERM, then KILL after 3 s. Idempotent. */
  async stop(): Promise<void> {
    unregister(this);
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killAll([child.pid], 'SIGTERM');
    if (!(await settlesWithin(exited, 3000))) {
      killAll([child.pid]);
      await exited;
    }
  }

  /** The toolkit's clean-up (test/support/cleanup.ts). */
  async cleanup(): Promise<number[]> {
    await this.stop();
    return [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** `show stat` is CSV with a header line starting with "# ". */
function parseStat(csv: string): Record<string, string>[] {
  const [header, ...lines] = csv.trim().split('\n');
  if (!header?.startsWith('# ')) throw new Error(`show stat: unexpected answer: ${csv.slice(0, 200)}`);
  const names = header.slice(2).split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [names[i] ?? String(i), value])));
}

function num(value: string | undefined): number {
  return value ? Number(value) : 0;
}
