// What a test starts or makes, the toolkit cleans up: every world, supervisor run, container, redis-server and temp
// directory registers itself here when it is made.
//  - In a test, `using w = world(…)` / `using run = await startSupervisor(…)` (`await using` for containers and
//    redis) cleans up when the block ends, passed or failed, in reverse order: the run is killed before its world's
//    leftovers are. That is what replaces try { … } finally { kill; cleanup }, and it is right for concurrent tests
//    too, where a hook cannot tell whose processes are whose.
//  - After every file, test/support/setup.ts (vitest setupFiles) cleans up whatever is still registered: nothing a
//    file started outlives it, whatever its tests forgot.
//  - Files that assert that nothing was left (no process escaped its clean-up) call expectNothingLeftAfterAll();
//    files whose tests run one at a time may clean up after each test with cleanUpAfterEach().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';

export interface Cleanable {
  /** Kills what is still running and removes what was made; returns the pids it had to kill. */
  cleanup(): number[] | Promise<number[]>;
}

const registered = new Set<Cleanable>();

/** Registers `resource` for the clean-up after the file (or after each test); returns it. */
export function register<T extends Cleanable>(resource: T): T {
  registered.add(resource);
  return resource;
}

/** Takes a resource off the list once it has cleaned up after itself for good (nothing left to check). */
export function unregister(resource: Cleanable): void {
  registered.delete(resource);
}

/** Cleans up everything registered (and forgets it); returns the pids that had to be killed. */
export async function cleanupRegistered(): Promise<number[]> {
  const all = [...registered].reverse(); // the last made first, as `using` does
  registered.clear();
  const killed: number[] = [];
  for (const resource of all) killed.push(...(await resource.cleanup()));
  return killed;
}

/** `using _ = atEnd(fn)`: runs `fn` when the block ends, however it ends (for what the toolkit did not start). */
export function atEnd(fn: () => void): Disposable {
  return { [Symbol.dispose]: fn };
}

/** A fresh directory under the system temp directory, removed after the file (or after the test). */
export function tempDir(prefix = 'eveai-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  register({
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
      return [];
    },
  });
  return dir;
}

/** afterAll: cleans up what the file registered and fails the file if any process was still running then. */
export function expectNothingLeftAfterAll(): void {
  afterAll(async () => {
    expect(await cleanupRegistered(), 'processes still running after every test cleaned up').toEqual([]);
  });
}

/**
 * afterEach: cleans up what the test registered (only for files whose tests do not run concurrently);
 * with `expectNothingLeft`, fails the test if any process was still running then.
 */
export function cleanUpAfterEach({ expectNothingLeft = false, timeoutMs = 20_000 } = {}): void {
  afterEach(async () => {
    const killed = await cleanupRegistered();
    if (expectNothingLeft) expect(killed, 'processes still running after the test').toEqual([]);
  }, timeoutMs);
}
