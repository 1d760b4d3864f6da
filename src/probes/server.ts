// The probe endpoint: GET /live and GET /ready on PROBE_PORT, answered from what the supervisor already knows
// (the stop sequence's state, /proc/PID/stat of the leader, the heartbeat file's age, a TCP connect to the
// program's port). A kubelet httpGet probe costs no process in the container, no Python and no broker round trip.
// Loaded with import() only when PROBE_PORT is set. One request per connection, on node:net (connection.ts).
//
// Not a secret-bearing surface: the answer is a status code and a short JSON with the phase and a reason —
// never an environment value, a pid or a path — so it may listen on every address (kubelet reaches the pod IP).
import type { Logger } from '../log.js';
import type { Plan } from '../supervise/plan.js';
import type { ProgramView } from '../supervise/supervise.js';
import { liveness, readiness, type Facts, type Phase, type Verdict } from './checks.js';
import { answerOneRequest, MAX_CONNECTIONS, type Request } from './connection.js';
import { collectGarbageEveryFewConnections, stopOptimizingCompilers } from './memory.js';
import { heartbeatAge, processState } from './proc.js';
import type { Answer } from './response.js';

/** A program that does not accept a connection on its own port within this long is not ready. */
const CONNECT_TIMEOUT_MS = 1000;

const NOT_FOUND: Answer = { status: 404, contentType: 'text/plain', body: 'GET /live or /ready\n' };

export interface ProbeServer {
  /** From now on the answers are about this running program. */
  attach(view: ProgramView): void;
}

type ProbeName = 'live' | 'ready';

/** Listens on `plan.settings.probePort`; rejects when the port cannot be bound. */
export async function startProbeServer(plan: Plan, log: Logger): Promise<ProbeServer> {
  let view: ProgramView | undefined;
  const lastOk: Record<ProbeName, boolean | undefined> = { live: undefined, ready: undefined };

  /** What is known without waiting: everything but whether the program accepts connections. */
  const facts = (): Facts => {
    const result: Facts = { phase: phaseOf(view), leader: view ? processState(view.pid) : undefined };
    if (view && plan.settings.heartbeatFile !== undefined) {
      result.heartbeatMaxAgeMs = plan.settings.heartbeatMaxAgeMs;
      result.heartbeatAgeMs = heartbeatAge(plan.settings.heartbeatFile, view.startedAt);
    }
    return result;
  };

  // Synchronous unless /ready must connect to the program's port: a probe costs no promise it does not need.
  const answer = (request: Request): Answer | Promise<Answer> => {
    const probe = request.path === '/live' ? 'live' : request.path === '/ready' ? 'ready' : undefined;
    if (!probe || (request.method !== 'GET' && request.method !== 'HEAD')) return NOT_FOUND;
    const seen = facts();
    if (probe === 'ready' && seen.phase === 'running' && plan.listenPort !== undefined) {
      return accepts(plan.listenPort).then((accepting) => judge(probe, { ...seen, accepting }));
    }
    return judge(probe, seen);
  };

  /** The same answer object while the verdict stays the same: no new body per probe (response.ts keeps its text). */
  const last: Record<ProbeName, { verdict: Verdict; phase: Phase; answer: Answer } | undefined> = { live: undefined, ready: undefined };
  const judge = (probe: ProbeName, seen: Facts): Answer => {
    const verdict = probe === 'live' ? liveness(seen) : readiness(seen);
    noteChange(probe, verdict, seen.phase);
    const before = last[probe];
    if (before?.verdict.ok === verdict.ok && before.verdict.reason === verdict.reason && before.phase === seen.phase) return before.answer;
    const body = `${JSON.stringify({ probe, ok: verdict.ok, phase: seen.phase, reason: verdict.reason })}\n`;
    const answer: Answer = { status: verdict.ok ? 200 : 503, contentType: 'application/json', body };
    last[probe] = { verdict, phase: seen.phase, answer };
    return answer;
  };

  /** One log line when a probe's answer changes, not one per probe. */
  const noteChange = (probe: ProbeName, verdict: Verdict, phase: Phase) => {
    if (lastOk[probe] === verdict.ok) return;
    const first = lastOk[probe] === undefined;
    lastOk[probe] = verdict.ok;
    if (verdict.ok) {
      if (!first) log.info({ event: 'probe.passing', probe, phase }, `/${probe} passes again`);
    } else if (probe === 'live' || phase === 'running') {
      // A readiness that turns false because a stop began is expected; the stop is logged already.
      log.warn({ event: 'probe.failing', probe, phase, reason: verdict.reason }, `/${probe} fails: ${verdict.reason}`);
    }
  };

  const net = process.getBuiltinModule('node:net');
  const connectionClosed = collectGarbageEveryFewConnections();
  // allowHalfOpen: a client may send its request and close its side at once; it still gets the answer.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    answerOneRequest(socket, answer);
    socket.once('close', connectionClosed);
  });
  server.maxConnections = MAX_CONNECTIONS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // No host: every address, IPv6 and IPv4 where the kernel has both (kubelet probes the pod IP).
    server.listen({ port: plan.settings.probePort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An accept that fails only costs that probe its answer; unheard, the error would end the supervisor. (libuv
  // absorbs EMFILE itself; ENFILE, ENOMEM and the like reach here.)
  server.on('error', () => {});
  server.unref(); // never what keeps the supervisor alive
  log.info(
    { event: 'probe.listen', port: plan.settings.probePort },
    `probe endpoint on port ${plan.settings.probePort}: GET /live, GET /ready`,
  );
  return {
    attach(next) {
      view = next;
      stopOptimizingCompilers(); // after the spawn: off the path to the program's start (memory.ts)
    },
  };
}

function phaseOf(view: ProgramView | undefined): Phase {
  if (!view) return 'starting';
  if (view.exited()) return 'exited';
  switch (view.stopState()) {
    case 'running':
      return 'running';
    case 'draining':
      return 'draining';
    default:
      return 'stopping';
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:port right now. */
function accepts(port: number): Promise<boolean> {
  const net = process.getBuiltinModule('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
