/**
 * Nothing survives a test, passed or failed: after each test every container still running is killed
 * (SIGKILL to its PID 1 takes the whole namespace with it) and every redis-server is stopped by pid.
 * After the file, the suite checks that no process is left in any namespace it created.
 */
import { afterAll, afterEach, expect } from 'vitest';
import { createdNamespaces, killAllContainers } from './container.js';
import { namespaceMembers } from './procs.js';
import { stopAllRedis } from './redis.js';
import { sleep } from './env.js';

export function useCleanup(): void {
  afterEach(async () => {
    await killAllContainers();
    await stopAllRedis();
  }, 20_000);
  afterAll(async () => {
    await killAllContainers();
    await stopAllRedis();
    // Processes the kernel is still tearing down may show for a moment; give them a few seconds.
    const members = () => [...createdNamespaces].flatMap((ns) => namespaceMembers(ns)).filter((p) => p.state !== 'Z');
    const deadline = Date.now() + 3000;
    while (members().length > 0 && Date.now() < deadline) await sleep(100);
    const leftovers = members();
    expect(leftovers.map((p) => `${p.pid} ${p.cmdline}`), 'processes left in the test namespaces').toEqual([]);
  }, 20_000);
}
