/**
 * Scenarios 1, 2, 4, 5 and 7 of issue 3, side by side: the supervisor (asserted) and the migration plan's
 * start.sh under tini -g (recorded as facts, not failures), on every version set (test/support/real/versions.ts):
 * Debian bookworm's gunicorn 20.1 / celery 5.2.6 and Debian trixie's gunicorn 23 / celery 5.5, the image's
 * pins. Writes docs/stop-semantics.md when every row of every set ran.
 *
 * Real gunicorn / celery / redis / tini, real topology (see test/support/real/container.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useContainerCleanup } from '../support/real/container.js';
import { type Row, versionsOf, webRow, workerRow, writeReport } from '../support/real/report.js';
import { buildTimes } from '../support/real/rootfs.js';
import {
  type StopObservation,
  type WebObservation,
  webStopWithRequestsInFlight,
  type WorkerObservation,
  workerStopWithTasksInFlight,
} from '../support/real/scenarios.js';
import { VERSION_SETS, type VersionSet } from '../support/real/versions.js';

useContainerCleanup();

const rows = new Map<string, Row>();
const ROW_ORDER = [
  '1/start.sh',
  '1/supervisor',
  '2/start.sh',
  '2/supervisor',
  '4/start.sh',
  '4/supervisor',
  '4d/start.sh',
  '4d/supervisor',
  '5/start.sh',
  '5/supervisor',
  '5c1/supervisor',
  '5c8/supervisor',
];

// Budgets of the over-budget scenarios (2 and 5), small to keep the suite fast.
const STOP_TIMEOUT = 2;
const WEB_GRACE = 2;
const WORKER_GRACE = 3;
/** Allowed on top of STOP_TIMEOUT + ESCALATION_GRACE: the supervisor's bounded wait for the group, process exit, tini. */
const SLACK_MS = 2500;
/** The old start.sh has no budget of its own; the kubelet ends it at terminationGracePeriodSeconds, simulated as this. */
const kubeletGraceMs = (grace: number) => (STOP_TIMEOUT + grace + 1) * 1000;

/**
 * What celery's main process does after TERM then QUIT (warm shutdown cut short by the hard-stop step), per
 * version set: the exit code the container reports, and the result-backend state of the abandoned tasks.
 * 5.2.6 exits 1 and leaves them STARTED; 5.5 cancels them first (RETRY, "cancelled by Celery") and exits 0.
 */
const COLD_STOP: Record<string, { exit: number; state: string }> = {
  bookworm: { exit: 1, state: 'STARTED' },
  trixie: { exit: 0, state: 'RETRY' },
};

function expectSupervisorEndedCleanly(o: StopObservation): void {
  const events = o.events;
  expect(events.at(-1)?.event, 'last log line is supervisor.exit').toBe('supervisor.exit');
  expect(events.at(-1)?.code, 'supervisor.exit code = container exit code').toBe(o.exit.code);
  expect(
    events.filter((e) => e.event === 'shutdown.graceful'),
    'graceful signal sent exactly once',
  ).toHaveLength(1);
  expect(
    o.aliveAfter.map((p) => `${p.nsPid} ${p.cmdline}`),
    'nothing of the group alive afterwards',
  ).toEqual([]);
}

const restored = (o: WorkerObservation) => (o.restoreMs === undefined ? 'never' : `${o.restoreMs} ms`);

/** After the hard-stop step: every message back in the queue, the version's exit code and task state, nothing left. */
function expectColdStop(o: WorkerObservation, tasks: number): void {
  const expected = COLD_STOP[o.container.options.versions?.name ?? 'bookworm']!;
  expect(o.counts.queued, JSON.stringify(o.fates)).toBe(tasks);
  expect(o.queueLength).toBe(tasks);
  expect(o.counts.lost + o.counts.FAILURE).toBe(0);
  expect(Object.values(o.states), 'result-backend state of the abandoned tasks').toEqual(Array(tasks).fill(expected.state));
  expect(o.exit.code, 'exit code after TERM then QUIT').toBe(expected.exit);
  expectSupervisorEndedCleanly(o);
}

const newClients = (o: WebObservation) => `new connection 0.3 s after SIGTERM: ${o.newConnectionEarly}; 2 s after: ${o.newConnection}`;
const escalation = (o: StopObservation) => o.events.find((e) => e.event === 'shutdown.escalate');
const escalationNote = (o: StopObservation) => {
  const escalate = escalation(o);
  return `escalation: ${escalate ? `${escalate.signal} to ${escalate.target} after ${escalate.after_ms} ms` : 'none'}`;
};

describe.each(VERSION_SETS)('$name', (versions: VersionSet) => {
  const record = (key: string, row: Row) => {
    rows.set(`${versions.name}/${key}`, row);
    console.info(`[stop-semantics] ${versions.name} ${key}: ${JSON.stringify(row)}`);
  };
  const name = (label: string) => `${versions.name}-${label}`;

  beforeAll(async () => {
    await versions.prepare();
    const built = buildTimes.get(versions.name);
    if (built)
      console.info(`[stop-semantics] ${versions.name}: root filesystem built in ${(built / 1000).toFixed(0)} s (cached from now on)`);
  }, 1_500_000);

  describe('scenario 1 — web: /slow?s=3 requests in flight, SIGTERM to PID 1', () => {
    // What gunicorn does with its stop signal, compared with start.sh's: DRAIN_DELAY=0 sends it at once, as start.sh
    // does. The drain in front of it (web's default) is the deploy drill's subject (bench/drill-results.md).
    const options = { requests: 5, seconds: 3, env: { DRAIN_DELAY: '0' }, exitDeadlineMs: 40_000 };

    it('supervisor: every request answers 200, new connections are refused (not hung), exit 0', async () => {
      const o = await webStopWithRequestsInFlight({ ...options, name: name('s1-web-supervisor'), runner: 'supervisor', versions });
      record('1/supervisor', webRow('1 web drain', o, newClients(o)));
      expect(o.responses.map((r) => r.status ?? r.error)).toEqual(Array(options.requests).fill(200));
      expect(o.newConnection).toBe('refused');
      expect(o.exit.code).toBe(0);
      expectSupervisorEndedCleanly(o);
    }, 90_000);

    it('old start.sh (baseline, recorded)', async () => {
      const o = await webStopWithRequestsInFlight({ ...options, name: name('s1-web-start.sh'), runner: 'start.sh', versions });
      record('1/start.sh', webRow('1 web drain', o, newClients(o)));
      expect(o.responses).toHaveLength(options.requests);
    }, 90_000);
  });

  describe('scenario 2 — web: a request longer than the budget', () => {
    const env = { DRAIN_DELAY: '0', STOP_TIMEOUT: String(STOP_TIMEOUT), ESCALATION_GRACE: String(WEB_GRACE) };
    const options = { requests: 1, seconds: 60, env, exitDeadlineMs: 40_000 };

    it(`supervisor (STOP_TIMEOUT=${STOP_TIMEOUT}, ESCALATION_GRACE=${WEB_GRACE}): escalates as logged, exits within the budget, nothing left`, async () => {
      const o = await webStopWithRequestsInFlight({ ...options, name: name('s2-web-supervisor'), runner: 'supervisor', versions });
      const escalate = escalation(o);
      record(
        '2/supervisor',
        webRow(
          '2 web over budget',
          o,
          `escalation: ${escalate ? `${escalate.signal} to ${escalate.target} after ${escalate.after_ms} ms` : 'none'}`,
        ),
      );
      expect(escalate, 'shutdown.escalate logged').toBeDefined();
      expect(o.exit.stopMs!).toBeLessThan((STOP_TIMEOUT + WEB_GRACE) * 1000 + SLACK_MS);
      expectSupervisorEndedCleanly(o);
    }, 90_000);

    it('old start.sh (baseline, recorded; the "kubelet" SIGKILLs PID 1 at the same budget + 1 s)', async () => {
      const o = await webStopWithRequestsInFlight({
        ...options,
        name: name('s2-web-start.sh'),
        runner: 'start.sh',
        versions,
        kubeletGraceMs: kubeletGraceMs(WEB_GRACE),
      });
      record(
        '2/start.sh',
        webRow('2 web over budget', o, `terminationGracePeriodSeconds simulated: ${kubeletGraceMs(WEB_GRACE) / 1000} s`),
      );
      expect(o.responses).toHaveLength(1);
    }, 90_000);
  });

  describe('scenario 4 — worker: slow(4) tasks in flight, SIGTERM to PID 1', () => {
    const options = { tasks: 3, seconds: 4, concurrency: 3, exitDeadlineMs: 40_000 };

    it('supervisor: every task SUCCESS in the result backend, none lost, exit 0', async () => {
      const o = await workerStopWithTasksInFlight({ ...options, name: name('s4-worker-supervisor'), runner: 'supervisor', versions });
      record('4/supervisor', workerRow('4 worker drain', o));
      expect(o.counts.SUCCESS, JSON.stringify(o.fates)).toBe(options.tasks);
      expect(o.counts.lost).toBe(0);
      expect(o.exit.code).toBe(0);
      expectSupervisorEndedCleanly(o);
    }, 90_000);

    it('old start.sh (baseline, recorded)', async () => {
      const o = await workerStopWithTasksInFlight({ ...options, name: name('s4-worker-start.sh'), runner: 'start.sh', versions });
      record('4/start.sh', workerRow('4 worker drain', o));
      expect(o.ids).toHaveLength(options.tasks);
    }, 90_000);
  });

  describe("scenario 4d — worker with celery's defaults (acks_late=False): plain_slow(4) tasks in flight, SIGTERM to PID 1", () => {
    const options = { tasks: 2, seconds: 4, concurrency: 2, task: 'plain_slow' as const, exitDeadlineMs: 40_000 };

    it('supervisor: every task SUCCESS, none lost, exit 0', async () => {
      const o = await workerStopWithTasksInFlight({ ...options, name: name('s4d-worker-supervisor'), runner: 'supervisor', versions });
      record('4d/supervisor', workerRow('4d worker drain, celery defaults', o));
      expect(o.counts.SUCCESS, JSON.stringify(o.states)).toBe(options.tasks);
      expect(o.exit.code).toBe(0);
      expectSupervisorEndedCleanly(o);
    }, 90_000);

    it('old start.sh (baseline, recorded)', async () => {
      const o = await workerStopWithTasksInFlight({ ...options, name: name('s4d-worker-start.sh'), runner: 'start.sh', versions });
      record('4d/start.sh', workerRow('4d worker drain, celery defaults', o));
      expect(o.ids).toHaveLength(options.tasks);
    }, 90_000);
  });

  describe('scenario 5 — worker: tasks longer than the budget', () => {
    const env = { STOP_TIMEOUT: String(STOP_TIMEOUT), ESCALATION_GRACE: String(WORKER_GRACE) };
    const options = { tasks: 2, seconds: 60, concurrency: 2, env, exitDeadlineMs: 40_000 };

    it(`supervisor (STOP_TIMEOUT=${STOP_TIMEOUT}, ESCALATION_GRACE=${WORKER_GRACE}): escalates, acks_late messages are back in the queue, nothing lost or left`, async () => {
      const o = await workerStopWithTasksInFlight({ ...options, name: name('s5-worker-supervisor'), runner: 'supervisor', versions });
      const escalate = escalation(o);
      record(
        '5/supervisor',
        workerRow('5 worker over budget', o, `${escalationNote(o)}; restored ${restored(o)} after it; LLEN celery = ${o.queueLength}`),
      );
      expect(escalate, 'shutdown.escalate logged').toBeDefined();
      expectColdStop(o, options.tasks);
      expect(o.exit.stopMs!).toBeLessThan((STOP_TIMEOUT + WORKER_GRACE) * 1000 + SLACK_MS);
    }, 90_000);

    it('old start.sh (baseline, recorded; the "kubelet" SIGKILLs PID 1 at the same budget + 1 s)', async () => {
      const o = await workerStopWithTasksInFlight({
        ...options,
        name: name('s5-worker-start.sh'),
        runner: 'start.sh',
        versions,
        kubeletGraceMs: kubeletGraceMs(WORKER_GRACE),
      });
      record(
        '5/start.sh',
        workerRow(
          '5 worker over budget',
          o,
          `terminationGracePeriodSeconds simulated: ${kubeletGraceMs(WORKER_GRACE) / 1000} s; LLEN celery = ${o.queueLength}`,
        ),
      );
      expect(o.ids).toHaveLength(options.tasks);
    }, 90_000);

    // The restore delay (hard-stop step -> every message back in the queue) at other pool sizes, with the
    // supervisor's default ESCALATION_GRACE: the default must cover it, or the messages stay unacked for the
    // broker's visibility timeout.
    it.each([1, 8])(
      'supervisor, concurrency %i, default ESCALATION_GRACE: every message restored before SIGKILL',
      async (concurrency) => {
        const o = await workerStopWithTasksInFlight({
          name: name(`s5-worker-c${concurrency}-supervisor`),
          runner: 'supervisor',
          versions,
          tasks: concurrency,
          seconds: 60,
          concurrency,
          env: { STOP_TIMEOUT: String(STOP_TIMEOUT) },
          exitDeadlineMs: 40_000,
        });
        record(
          `5c${concurrency}/supervisor`,
          workerRow(
            `5 worker over budget, concurrency ${concurrency}`,
            o,
            `${escalationNote(o)}; restored ${restored(o)} after it; default ESCALATION_GRACE`,
          ),
        );
        expectColdStop(o, concurrency);
      },
      90_000,
    );
  });
});

const TITLES: Record<string, string> = {
  bookworm: "Debian bookworm (the host's packages; celery 5.2, gunicorn 20.1)",
  trixie: "Debian trixie (the image's pinned lines; celery 5.5, gunicorn 23)",
};

afterAll(() => {
  // Only a complete run rewrites the committed tables (a filtered run must not leave half of them).
  if (!VERSION_SETS.every((set) => ROW_ORDER.every((key) => rows.has(`${set.name}/${key}`)))) return;
  writeReport(
    VERSION_SETS.map((set) => ({
      title: TITLES[set.name] ?? set.name,
      versions: versionsOf(set),
      rows: ROW_ORDER.map((key) => rows.get(`${set.name}/${key}`)!),
    })),
    [
      `Scenario 1 uses web's defaults (STOP_TIMEOUT=20, ESCALATION_GRACE=3) with DRAIN_DELAY=0, so gunicorn gets its stop signal at once, as under start.sh (the drain is the deploy drill's subject: bench/drill-results.md); 4 and 4d use the worker's defaults (STOP_TIMEOUT=25, ESCALATION_GRACE=3); 2 (with DRAIN_DELAY=0) and 5 use STOP_TIMEOUT=${STOP_TIMEOUT} with ESCALATION_GRACE=${WEB_GRACE} (web) / ${WORKER_GRACE} (worker); the concurrency 1 and 8 rows of 5 use STOP_TIMEOUT=${STOP_TIMEOUT} and the default ESCALATION_GRACE.`,
      "The old start.sh has no stop budget of its own: in scenarios 2 and 5 the test plays the kubelet and SIGKILLs PID 1 one second after the supervisor's budget would have ended.",
      "Worker runs: CELERY_CONCURRENCY equals the number of tasks, so every task is running (STARTED in the result backend) when SIGTERM arrives. Scenarios 4 and 5 use acks_late=True and reject_on_worker_lost=True (`slow`); 4d uses Celery's defaults (`plain_slow`: the message is acknowledged when the task starts), the configuration most apps run.",
      '"restored … after it": from the hard-stop step (the supervisor\'s `shutdown.escalate` line) until every abandoned task\'s message was back in the queue, polled from Redis every 20 ms — the delay ESCALATION_GRACE must cover.',
    ],
  );
});
