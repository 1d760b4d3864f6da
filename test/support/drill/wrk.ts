/**
 * The drill's load: wrk 4.1 (Debian's), closed loop — each of its connections sends the next request as soon as the
 * previous one is answered — in one of two connection modes:
 *   keep-alive  requests reuse their connection (what browsers and most HTTP clients do)
 *   close       one connection per request (`Connection: close`): every request needs a new connection, which is
 *               what a closed listener refuses
 *
 * What wrk 4.1.0 counts (read from its source, src/wrk.c and src/net.c at tag 4.1.0):
 *   connect  socket() or connect() failing at once (an asynchronous refusal shows up as a write or read error)
 *   write    write() failing (EPIPE, ECONNRESET, ECONNREFUSED of a refused connect)
 *   read     read() failing, the connection closing before the response was complete, or a parse error; also a
 *            close of a keep-alive connection between two requests (an over-count, never an under-count)
 *   status   a complete response with a status above 399 (also counted in `requests`)
 *   timeout  a complete response that took longer than --timeout (also counted in `requests`)
 * Failed requests = the sum of the five. wrk has no per-request deadline and drops what is in flight when it stops:
 * a request that never gets an answer is never counted. The drill closes that gap outside wrk: every wait of the
 * balancer is bounded (test/support/drill/haproxy.ts), so a stuck request ends as an error within 30 s, and a
 * replica's exit closes every connection it held; wrk is stopped only after the old replica has exited.
 *
 * One wrk run per roll: started before the roll, stopped (SIGINT: wrk then prints its report) after it, so each
 * roll's failures are its own. The report comes from a done() hook as one JSON line (wrk-report.lua).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { register, unregister } from '../cleanup.js';
import { requireProgram } from '../command.js';
import { catches, killAll } from '../proc.js';
import { settlesWithin, waitFor } from '../wait.js';

export type ConnectionMode = 'keep-alive' | 'close';

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
}

export interface LoadResult {
  /** Complete responses (any status). */
  requests: number;
  /** Every request that did not end in a 2xx/3xx answer within the timeout: the sum of `errors`. */
  failed: number;
  errors: WrkErrors;
  ms: number;
  latencyP50Ms: number;
  latencyMaxMs: number;
}

const REPORT_SCRIPT = path.join(import.meta.dirname, 'wrk-report.lua');
/** A response slower than this counts as failed (the drill's requests take 50 ms). */
const RESPONSE_TIMEOUT_S = 10;
const SIGINT = 2;

export interface WrkOptions {
  url: string;
  connections: number;
  mode: ConnectionMode;
  /** wrk stops by itself after this long even if nobody stops it. */
  maxSeconds: number;
}

export class Wrk {
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(
    readonly options: WrkOptions,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
  }

  /** Starts the load; resolves once wrk's threads run (its SIGINT handler is installed only then). */
  static async start(options: WrkOptions): Promise<Wrk> {
    const argv = [
      requireProgram('wrk'),
      '-t1',
      `-c${options.connections}`,
      `-d${options.maxSeconds}s`,
      `--timeout`,
      `${RESPONSE_TIMEOUT_S}s`,
      '-s',
      REPORT_SCRIPT,
      ...(options.mode === 'close' ? ['-H', 'Connection: close'] : []),
      options.url,
    ];
    const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const wrk = register(new Wrk(options, child));
    await waitFor(
      `wrk against ${options.url}: running`,
      () => {
        if (child.exitCode !== null) throw new Error(`wrk exited with ${child.exitCode}: ${wrk.stderr}${wrk.stdout}`);
        return child.pid !== undefined && catches(child.pid, SIGINT);
      },
      10_000,
      5,
    );
    return wrk;
  }

  /** Stops the load (SIGINT) and returns wrk's counts. */
  async stop(): Promise<LoadResult> {
    unregister(this);
    if (this.child.exitCode === null && this.child.pid) killAll([this.child.pid], 'SIGINT');
    if (!(await settlesWithin(this.exited, 10_000))) {
      await this.cleanup();
      throw new Error(`wrk did not stop within 10 s of SIGINT: ${this.stderr}`);
    }
    const line = this.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`wrk left no report (exit ${this.child.exitCode}): ${this.stdout}${this.stderr}`);
    const report = JSON.parse(line) as WrkErrors & {
      requests: number;
      duration_us: number;
      latency_p50_us: number;
      latency_max_us: number;
    };
    const errors: WrkErrors = {
      connect: report.connect,
      read: report.read,
      write: report.write,
      status: report.status,
      timeout: report.timeout,
    };
    return {
      requests: report.requests,
      failed: errors.connect + errors.read + errors.write + errors.status + errors.timeout,
      errors,
      ms: Math.round(report.duration_us / 1000),
      latencyP50Ms: report.latency_p50_us / 1000,
      latencyMaxMs: report.latency_max_us / 1000,
    };
  }

  /** The toolkit's clean-up (test/support/cleanup.ts): SIGKILL, no report. */
  async cleanup(): Promise<number[]> {
    unregister(this);
    if (this.child.exitCode !== null || !this.child.pid) return [];
    killAll([this.child.pid]);
    await settlesWithin(this.exited, 5000);
    return [];
  }
}
