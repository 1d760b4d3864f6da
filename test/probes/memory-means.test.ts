// The probe endpoint's two memory means (src/probes/memory.ts) take effect in the built supervisor: once the program
// runs, V8 compiles nothing more with Maglev or Turbofan however hot the probe path gets, and every 256 connections a
// memory-reducing collection runs (V8's "last resort": one or more full collections that shrink the heap). V8 reports both itself (--trace-opt, --trace-gc on stdout, switched on by a preload of the
// test's). What they buy in memory is measured in bench/RESULTS-probes.md, not here.
import { describe, expect, it } from 'vitest';
import { freePort, parseResponse, rawExchange } from '../support/http.js';
import { startSupervisor } from '../support/supervisor.js';
import { forcedFullCollections, isMemoryReducing, traceSupervisorV8 } from '../support/v8-trace.js';
import { within } from '../support/wait.js';
import { world } from '../support/world.js';

const PROBES = 3000;
const optimizingCompiles = (trace: string) => trace.match(/completed (optimizing|compiling) .*\(target (MAGLEV|TURBOFAN)\)/g)?.length ?? 0;

describe('the memory means of the probe endpoint', () => {
  it(`after the spawn, ${PROBES} probes are run without optimizing compilers and with a memory-reducing collection every 256 connections`, async () => {
    using w = world();
    const nodeOptions = traceSupervisorV8(w.dir, '--trace-opt --trace-gc');
    const port = await freePort();
    const sup = await startSupervisor(['--', 'fake-child'], {
      env: { ...w.env, PROBE_PORT: String(port), NODE_OPTIONS: nodeOptions },
    });
    try {
      await sup.waitForLog((l) => l.event === 'child.spawn');
      const get = async (path: string) =>
        parseResponse((await rawExchange(port, [`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`])).received)?.status;
      expect(await get('/live')).toBe(200);
      const atStart = sup.stdout();
      for (let i = 0; i < PROBES; i++) expect(await get(i % 3 ? '/live' : '/ready')).toBe(200);
      const trace = sup.stdout().slice(atStart.length);
      expect(trace, 'V8 traces (the check can see a collection)').toMatch(/Scavenge|Mark-Compact/);
      expect(optimizingCompiles(trace), 'Maglev/Turbofan compiles while answering probes').toBe(0);
      // 3001 connections: 11 multiples of 256 (the last may still be closing when the trace is read), each a
      // memory-reducing collection; besides them at most the one of src/cli/startup-gc.ts (memory-reducing too), if
      // it fell into the window.
      const forced = forcedFullCollections(trace);
      const reducing = forced.filter(isMemoryReducing).length;
      expect(reducing, 'memory-reducing collections').toBeGreaterThanOrEqual(10);
      expect(reducing).toBeLessThanOrEqual(12 * 7);
      expect(forced.length - reducing, 'plain forced collections').toBe(0);
    } finally {
      sup.signal('SIGTERM');
      await within(sup.exited, 20_000, 'the supervisor exits');
    }
  }, 120_000);
});
