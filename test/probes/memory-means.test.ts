// The probe endpoint's two memory means (src/probes/memory.ts) take effect in the built supervisor: once the program
// runs, V8 compiles nothing more with Maglev or Turbofan however hot the probe path gets, and every 256 connections a
// memory-reducing collection runs (V8's "last resort": one or more full collections that shrink the heap). V8 reports both itself (--trace-opt, --trace-gc on stdout, switched on by a preload of the
// test's). What they buy in memory is measured in bench/RESULTS-probes.md, not here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, parseResponse, rawExchange } from '../support/http.js';
import { startSupervisor } from '../support/supervisor.js';
import { within } from '../support/wait.js';
import { world } from '../support/world.js';

const PROBES = 3000;
const optimizingCompiles = (trace: string) => trace.match(/completed (optimizing|compiling) .*\(target (MAGLEV|TURBOFAN)\)/g)?.length ?? 0;
/** Full collections asked for through gc() (V8's reason "testing"): the supervisor's own, never V8's heuristics. */
const forcedFullCollections = (trace: string) => trace.match(/Mark-Compact .* testing/g)?.length ?? 0;
/** The memory-reducing ones among them: one gc() call of the "last-resort" flavor runs one to seven. */
const forcedReducingCollections = (trace: string) => trace.match(/Mark-Compact \(reduce\) .* testing/g)?.length ?? 0;

describe('the memory means of the probe endpoint', () => {
  it(`after the spawn, ${PROBES} probes are run without optimizing compilers and with a memory-reducing collection every 256 connections`, async () => {
    using w = world();
    const preload = join(w.dir, 'trace-v8.cjs');
    // Only the supervisor traces (NODE_OPTIONS reaches the Node-based fake child too).
    writeFileSync(
      preload,
      "if (/supervisor\\.js$/.test(process.argv[1] ?? '')) require('node:v8').setFlagsFromString('--trace-opt --trace-gc');\n",
    );
    const port = await freePort();
    const sup = await startSupervisor(['--', 'fake-child'], {
      env: { ...w.env, PROBE_PORT: String(port), NODE_OPTIONS: `--require ${preload}` },
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
      const reducing = forcedReducingCollections(trace);
      expect(reducing, 'memory-reducing collections').toBeGreaterThanOrEqual(10);
      expect(reducing).toBeLessThanOrEqual(12 * 7);
      expect(forcedFullCollections(trace) - reducing, 'plain forced collections').toBe(0);
    } finally {
      sup.signal('SIGTERM');
      await within(sup.exited, 20_000, 'the supervisor exits');
    }
  }, 120_000);
});
