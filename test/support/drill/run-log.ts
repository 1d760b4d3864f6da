/**
 * The example app's run log (scripts/run_eveai_workers.py, TASK_RUNS_KEY): one JSON record per task start, end and
 * tick, appended by the task itself to a Redis list. The drills count lost and twice-run tasks from it, by id.
 */
import type { RedisServer } from '../real/redis.js';

/** The Redis list the drills' workers append to (TASK_RUNS_KEY). */
export const RUNS_KEY = 'task-runs';

export interface RunRecord {
  event: 'start' | 'end' | 'run';
  task: string;
  id: string;
  /** The HOSTNAME of the replica that ran it. */
  replica: string;
  /** Epoch seconds. */
  at: number;
  /** tick only: when beat sent it (epoch seconds) and which beat replica did. */
  sent_at?: number;
  sent_by?: string;
}

export async function readRunLog(redis: RedisServer): Promise<RunRecord[]> {
  const raw = ((await redis.command('LRANGE', RUNS_KEY, 0, -1)) ?? []) as string[];
  return raw.map((line) => JSON.parse(line) as RunRecord);
}

/** Result-backend states (SUCCESS, FAILURE, STARTED, RETRY, …) of `ids`, in one round trip; undefined: no record. */
export async function resultStates(redis: RedisServer, ids: readonly string[]): Promise<(string | undefined)[]> {
  if (ids.length === 0) return [];
  const raw = ((await redis.command('MGET', ...ids.map((id) => `celery-task-meta-${id}`))) ?? []) as (string | null)[];
  return raw.map((value) => (typeof value === 'string' ? (JSON.parse(value) as { status: string }).status : undefined));
}
