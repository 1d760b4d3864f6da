/**
 * The beat half of the deploy drill (issue 16): celery beat replaced while its schedule runs (a tick every
 * second), one beat per schedule — the new replica starts only after the old one exited, as a Deployment with
 * `strategy: Recreate` does — and the schedule file on storage both replicas share (a PVC or emptyDir:
 * CELERY_BEAT_SCHEDULE; start.sh, which passes no -s, keeps it in its working directory, so that is the shared
 * directory there). A worker that is not replaced runs the ticks; each tick records when beat sent it, which
 * replica sent it and when it ran (the example app's run log). Counted per roll: the old beat's stop, what it saved,
 * whether the new one read it, and the ticks missed against the downtime; over the drill, ticks run twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../cleanup.js';
import { savedRunCounts } from '../real/beat-schedule.js';
import { Container, type Runner } from '../real/container.js';
import { APP_GID, APP_UID, OLD_START_SH } from '../real/env.js';
import { ROOT } from '../paths.js';
import { RedisServer } from '../real/redis.js';
import type { VersionSet } from '../real/versions.js';
import { settlesWithin, sleep, waitFor } from '../wait.js';
import { readRunLog, RUNS_KEY, type RunRecord } from './run-log.js';

export interface BeatDrillOptions {
  versions: VersionSet;
  runner: Runner;
  rolls: number;
  /** How long each beat replica runs before it is replaced. */
  runMs?: number;
}

export interface BeatRoll {
  /** From the SIGTERM to the old beat's PID 1 until it exited. */
  stopMs: number;
  exitCode: number;
  /** From the old beat's exit until the new one was started (the Recreate gap: here only the drill's own steps). */
  downtimeMs: number;
  /** Between the old beat's last tick and the new beat's first tick, by their send times. */
  tickGapMs: number;
  /** Ticks that fell in that gap: round(gap / interval) - 1. */
  missed: number;
  /** The schedule file after the old beat's exit: its tick run count, or the error reading it. */
  saved: number | string;
  /** Ticks all beats sent up to the old beat's exit: what the file should say. */
  sentSoFar: number;
  /** The new beat found the file unusable and started afresh ("Removing corrupted schedule file"). */
  newBeatDiscardedFile: boolean;
}

export interface BeatDrillResult {
  versions: string;
  runner: Runner;
  rolls: BeatRoll[];
  ticksSent: number;
  ticksRun: number;
  /** Ticks executed more than once (the same task id twice). */
  ranTwice: number;
  /** Ticks sent less than half an interval after the previous one: two beats at once, or a tick sent again. */
  sentTwice: number;
  /** Rolls whose schedule file did not hold every tick sent before the exit, or that the next beat discarded. */
  badSchedule: number;
}

export const TICK_SECONDS = 1;

const SENT = /Sending due task tick/g;

class Beats {
  private next = 1;
  readonly all: Container[] = [];

  constructor(
    private readonly options: BeatDrillOptions,
    private readonly redis: RedisServer,
    private readonly shared: string,
  ) {}

  async start(): Promise<Container> {
    const { versions, runner } = this.options;
    const hostname = `${versions.name}-${runner === 'supervisor' ? 'sup' : 'sh'}-b${this.next++}`;
    const container = await Container.start({
      name: `drill-${hostname}`,
      runner,
      versions,
      cwd: this.shared,
      env: {
        ROLE: 'beat',
        CELERY_BROKER_URL: this.redis.url,
        BEAT_TICK_SECONDS: String(TICK_SECONDS),
        HOSTNAME: hostname,
        // start.sh passes no -s: its schedule stays in the working directory, which is the shared one here.
        ...(runner === 'supervisor' ? { CELERY_BEAT_SCHEDULE: path.join(this.shared, 'celerybeat-schedule') } : {}),
      },
    });
    this.all.push(container);
    return container;
  }

  sentBy(containers: Container[]): number {
    return containers.reduce((n, c) => n + (c.output.match(SENT)?.length ?? 0), 0);
  }
}

const ticks = (records: RunRecord[]) => records.filter((r) => r.event === 'run' && r.task === 'tick');
const hostnameOf = (beat: Container) => beat.options.env.HOSTNAME!;

async function firstTickBy(redis: RedisServer, beat: Container): Promise<RunRecord> {
  return waitFor(
    `${beat.options.name}: its first tick ran`,
    async () => {
      if (!beat.running) throw new Error(`${beat.options.name} exited; log ${beat.logFile}`);
      return ticks(await readRunLog(redis)).find((r) => r.sent_by === hostnameOf(beat));
    },
    60_000,
    100,
  );
}

export async function runBeatDrill(options: BeatDrillOptions): Promise<BeatDrillResult> {
  const { versions } = options;
  await using redis = await RedisServer.start(versions);
  const shared = tempDir('eveai-drill-beat-');
  fs.chownSync(shared, APP_UID, APP_GID); // the volume belongs to the app user
  if (options.runner === 'start.sh') {
    // start.sh runs as scripts/start.sh from its working directory (the image's WORKDIR), which is the shared one here.
    fs.mkdirSync(path.join(shared, path.dirname(OLD_START_SH)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, OLD_START_SH), path.join(shared, OLD_START_SH));
  }
  const worker = await Container.start({
    name: `drill-${versions.name}-beat-worker`,
    runner: 'supervisor',
    versions,
    env: { ROLE: 'worker', CELERY_BROKER_URL: redis.url, TASK_RUNS_KEY: RUNS_KEY, HOSTNAME: `${versions.name}-tick-worker` },
  });
  await worker.waitOutput(/celery@\S+ ready\./, 90_000);
  const beats = new Beats(options, redis, shared);
  let beat = await beats.start();
  await firstTickBy(redis, beat);

  const rolls: BeatRoll[] = [];
  for (let i = 0; i < options.rolls; i++) {
    await sleep(options.runMs ?? 4000);
    const signalledAt = Date.now();
    beat.signal('SIGTERM');
    const exit = await beat.waitExit(40_000);
    const exitedAt = signalledAt + (exit.stopMs ?? 0);
    const sentSoFar = beats.sentBy(beats.all);
    let saved: number | string;
    try {
      saved = savedRunCounts(versions, path.join(shared, 'celerybeat-schedule')).tick ?? 0;
    } catch (error) {
      saved = String((error as Error).message)
        .split('\n')
        .slice(-2)
        .join(' ');
    }
    const old = beat;
    beat = await beats.start();
    const startedAt = Date.now();
    const first = await firstTickBy(redis, beat);
    const last = ticks(await readRunLog(redis))
      .filter((r) => r.sent_by === hostnameOf(old))
      .at(-1);
    const tickGapMs = last ? (first.sent_at! - last.sent_at!) * 1000 : NaN;
    rolls.push({
      stopMs: exitedAt - signalledAt,
      exitCode: exit.code,
      downtimeMs: startedAt - exitedAt,
      tickGapMs,
      missed: Math.max(0, Math.round(tickGapMs / 1000 / TICK_SECONDS) - 1),
      saved,
      sentSoFar,
      newBeatDiscardedFile: /corrupt/i.test(beat.output),
    });
  }
  await sleep(options.runMs ?? 4000);
  beat.signal('SIGTERM');
  await beat.waitExit(40_000);
  // The worker runs what is still queued (a tick takes milliseconds), then stops.
  const sent = beats.sentBy(beats.all);
  await waitFor('every tick sent has run', async () => ticks(await readRunLog(redis)).length >= sent, 30_000, 200).catch(() => undefined);
  worker.signal('SIGTERM');
  if (!(await settlesWithin(worker.exited, 40_000))) worker.killPid1();

  const runs = ticks(await readRunLog(redis));
  const byId = new Map<string, number>();
  for (const run of runs) byId.set(run.id, (byId.get(run.id) ?? 0) + 1);
  const sentTimes = [...new Set(runs.map((r) => r.sent_at!))].sort((a, b) => a - b);
  return {
    versions: versions.name,
    runner: options.runner,
    rolls,
    ticksSent: sent,
    ticksRun: byId.size,
    ranTwice: [...byId.values()].filter((n) => n > 1).length,
    sentTwice: sentTimes.filter((t, i) => i > 0 && t - sentTimes[i - 1]! < TICK_SECONDS / 2).length,
    badSchedule: rolls.filter((r) => r.saved !== r.sentSoFar || r.newBeatDiscardedFile).length,
  };
}
