// src/cli/startup-gc.ts: a second after the spawn the supervisor asks V8 for one memory-reducing collection, and for
// none after it. V8's own memory reducer would otherwise decide whether an idle supervisor ever gives back its
// start-up garbage, and it often does not (bench/RESULTS.md: idle RSS). V8 reports each collection and why it ran
// (--trace-gc on stdout, switched on by a preload of the test's): the ones gc() asks for carry the reason "testing".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { sleep, waitFor, within } from '../support/wait.js';
import { world } from '../support/world.js';

/** Full collections asked for through gc(): the supervisor's own, never V8's heuristics. */
const forcedFullCollections = (trace: string) => trace.match(/Mark-Compact .* testing/g) ?? [];
/** The memory-reducing ones among them: one gc() call of the "last-resort" flavor runs one to seven. */
const isReducing = (line: string) => line.startsWith('Mark-Compact (reduce)');

describe('the collection after start-up', () => {
  it('runs once, a second after the spawn, and reduces memory', async () => {
    using w = world();
    const preload = join(w.dir, 'trace-gc.cjs');
    // Only the supervisor traces (NODE_OPTIONS reaches the Node-based fake child too).
    writeFileSync(preload, "if (/supervisor\\.js$/.test(process.argv[1] ?? '')) require('node:v8').setFlagsFromString('--trace-gc');\n");
    const sup = await startSupervisor(['--', 'fake-child'], { env: { ...w.env, NODE_OPTIONS: `--require ${preload}` } });
    try {
      await sup.waitForLog((l) => l.event === 'child.spawn');
      await waitFor('a collection asked for through gc()', () => forcedFullCollections(sup.stdout()).length > 0, 15_000);
      await sleep(3000); // the rest of a last-resort collection, and time for any other the supervisor might ask for
      const forced = forcedFullCollections(sup.stdout());
      expect(forced.every(isReducing), `every forced collection reduces memory:\n${forced.join('\n')}`).toBe(true);
      expect(forced.length, 'full collections of the one gc() call').toBeLessThanOrEqual(7);
    } finally {
      sup.signal('SIGTERM');
      await within(sup.exited, 20_000, 'the supervisor exits');
    }
  }, 60_000);
});
