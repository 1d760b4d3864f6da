// src/cli/startup-gc.ts: a second after the spawn the supervisor asks V8 for one memory-reducing collection, and for
// none after it. V8's own memory reducer would otherwise decide whether an idle supervisor ever gives back its
// start-up garbage, and it often does not (bench/RESULTS.md: idle RSS). V8 reports each collection and why it ran
// (--trace-gc on stdout, switched on by a preload of the test's): the ones gc() asks for carry the reason "testing".
import { describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { forcedFullCollections, isMemoryReducing, traceSupervisorV8 } from '../support/v8-trace.js';
import { sleep, waitFor, within } from '../support/wait.js';
import { world } from '../support/world.js';

describe('the collection after start-up', () => {
  it('runs once, a second after the spawn, and reduces memory', async () => {
    using w = world();
    const sup = await startSupervisor(['--', 'fake-child'], { env: { ...w.env, NODE_OPTIONS: traceSupervisorV8(w.dir, '--trace-gc') } });
    try {
      await sup.waitForLog((l) => l.event === 'child.spawn');
      await waitFor('a collection asked for through gc()', () => forcedFullCollections(sup.stdout()).length > 0, 15_000);
      await sleep(3000); // the rest of a last-resort collection, and time for any other the supervisor might ask for
      const forced = forcedFullCollections(sup.stdout());
      expect(forced.every(isMemoryReducing), `every forced collection reduces memory:\n${forced.join('\n')}`).toBe(true);
      expect(forced.length, 'full collections of the one gc() call').toBeLessThanOrEqual(7);
    } finally {
      sup.signal('SIGTERM');
      await within(sup.exited, 20_000, 'the supervisor exits');
    }
  }, 60_000);
});
