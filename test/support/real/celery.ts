/**
 * What happened to each task, read straight from Redis (the broker and the result backend):
 *   SUCCESS / FAILURE  - the result backend says so (celery-task-meta-<id>)
 *   queued             - its message is back in (or still in) the queue list, another worker will run it
 *   unacked            - its message sits in kombu's "unacked" hash: redelivered only after the
 *                        visibility timeout (1 h by default) - delayed, not lost
 *   lost               - none of the above: nobody will ever run it again
 */
import { execa } from 'execa';
import { ROOT } from '../paths.js';
import { CELERY_CLIENT, hostEnv } from './env.js';
import type { RedisServer } from './redis.js';
import { wrapped } from './versions.js';

export const QUEUE = 'celery';

/**
 * Sends `count` slow(seconds) tasks with the celery client of the broker's version set. `task` picks the
 * example app's task: 'slow' (acks_late) or 'plain_slow' (celery's defaults).
 */
export async function sendSlowTasks(redis: RedisServer, count: number, seconds: number, task: SlowTask = 'slow'): Promise<string[]> {
  const [program, args] = wrapped(redis.versions, ['python3', CELERY_CLIENT, 'send', String(count), String(seconds), task]);
  const { stdout } = await execa(program, args, {
    cwd: ROOT,
    env: hostEnv({ CELERY_BROKER_URL: redis.url }),
    extendEnv: false,
    timeout: 30_000,
  });
  return JSON.parse(stdout) as string[];
}

export type SlowTask = 'slow' | 'plain_slow';

export type TaskFate = 'SUCCESS' | 'FAILURE' | 'queued' | 'unacked' | 'lost' | 'running';

export async function taskState(redis: RedisServer, id: string): Promise<string | undefined> {
  const raw = await redis.command('GET', `celery-task-meta-${id}`);
  return typeof raw === 'string' ? (JSON.parse(raw) as { status: string }).status : undefined;
}

function messageTaskId(raw: string): string | undefined {
  try {
    const message = JSON.parse(raw) as { headers?: { id?: string } };
    return message.headers?.id;
  } catch {
    return undefined;
  }
}

/** Task ids whose messages are in the queue list right now. */
export async function queuedTaskIds(redis: RedisServer): Promise<string[]> {
  const items = ((await redis.command('LRANGE', QUEUE, 0, -1)) ?? []) as string[];
  return items.map(messageTaskId).filter((id): id is string => !!id);
}

/** Task ids whose messages are delivered but not acknowledged (kombu's "unacked" hash). */
export async function unackedTaskIds(redis: RedisServer): Promise<string[]> {
  const flat = ((await redis.command('HGETALL', 'unacked')) ?? []) as string[];
  const ids: string[] = [];
  for (let i = 1; i < flat.length; i += 2) {
    try {
      const [message] = JSON.parse(flat[i]!) as [string | object];
      const id = messageTaskId(typeof message === 'string' ? message : JSON.stringify(message));
      if (id) ids.push(id);
    } catch {
      /* not ours */
    }
  }
  return ids;
}

/** The fate of every task: after the worker is gone, anything not done and not in Redis is lost. */
export async function taskFates(redis: RedisServer, ids: string[], workerGone = true): Promise<Record<string, TaskFate>> {
  const queued = new Set(await queuedTaskIds(redis));
  const unacked = new Set(await unackedTaskIds(redis));
  const fates: Record<string, TaskFate> = {};
  for (const id of ids) {
    const state = await taskState(redis, id);
    if (state === 'SUCCESS' || state === 'FAILURE') fates[id] = state;
    else if (queued.has(id)) fates[id] = 'queued';
    else if (unacked.has(id)) fates[id] = 'unacked';
    else fates[id] = workerGone ? 'lost' : 'running';
  }
  return fates;
}

export function countFates(fates: Record<string, TaskFate>): Record<TaskFate, number> {
  const counts: Record<TaskFate, number> = { SUCCESS: 0, FAILURE: 0, queued: 0, unacked: 0, lost: 0, running: 0 };
  for (const fate of Object.values(fates)) counts[fate]++;
  return counts;
}
