// The tests' one way to wait: poll until something holds (waitFor, eventually), bound a promise in time (within,
// settlesWithin), pause (sleep), and run many at a time with a bound (inPool). No test writes its own loop.
import { setTimeout as sleepFor } from 'node:timers/promises';

export const sleep = (ms: number): Promise<void> => sleepFor(ms);

export class WaitTimeout extends Error {}

/**
 * Polls `probe` every `everyMs` until it returns something other than undefined or false, and resolves with that.
 * Rejects with a WaitTimeout naming `what` after `timeoutMs`; a probe that throws ends the wait with its error
 * (e.g. the process being waited on has exited), unless `retryErrors`: then it counts as "not yet", and the last
 * error is named at the deadline (e.g. `podman exec` into a container that is still starting).
 * `what` may be a function, to describe the state at the deadline.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 20,
  { retryErrors = false } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const described = typeof what === 'string' ? what : what();
      throw new WaitTimeout(`not within ${timeoutMs} ms: ${described}${lastError === undefined ? '' : `: ${String(lastError)}`}`);
    }
    await sleep(everyMs);
  }
}

/** Polls `predicate` until it holds or `ms` passed; returns whether it held (for `expect(await eventually(…)).toBe(true)`). */
export async function eventually(predicate: () => boolean, ms: number, every = 20): Promise<boolean> {
  try {
    return await waitFor('', () => predicate(), ms, every);
  } catch (error) {
    if (error instanceof WaitTimeout) return false;
    throw error;
  }
}

/** Resolves with the promise's value, or rejects after `ms` with `what` (never hangs a test). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeout(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` settles within `ms` (its outcome aside): for a clean-up that escalates when a process lingers. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return within(promise, ms, '').then(
    () => true,
    (error: unknown) => !(error instanceof WaitTimeout),
  );
}

/** Runs `fn` over `items` with at most `concurrency` at a time; results in input order. */
export async function inPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
