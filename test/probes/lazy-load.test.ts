// "When probes are off, nothing of them is loaded": the built bundle, run with and without PROBE_PORT, reports
// which of Node's builtin modules it loaded (process.moduleLoadList, read on exit by a preload).
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeWorld } from '../helpers/fake-programs.js';
import { runSupervisor } from '../helpers/supervisor.js';
import { freePort } from '../real/harness/ports.js';

async function builtinsLoaded(env: Record<string, string>): Promise<string[]> {
  const world = fakeWorld();
  try {
    const out = join(world.dir, 'modules.json');
    const preload = join(world.dir, 'report-modules.cjs');
    // Only the supervisor reports (NODE_OPTIONS reaches the Node-based fake child too).
    writeFileSync(
      preload,
      `if (/supervisor\\.js$/.test(process.argv[1] ?? '')) process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`,
    );
    const sup = runSupervisor(['--', 'fake-child'], { env: { ...world.env, FAKE_EXIT: '0', NODE_OPTIONS: `--require ${preload}`, ...env } });
    expect((await sup.exited).code).toBe(0);
    return (JSON.parse(readFileSync(out, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule '));
  } finally {
    world.cleanup();
  }
}

describe('the probe endpoint is loaded only when configured', () => {
  it('without PROBE_PORT node:http is never loaded; with it, it is', async () => {
    const off = await builtinsLoaded({});
    expect(off.length, 'the report works').toBeGreaterThan(20);
    expect(off.filter((m) => /^NativeModule (_?http|_http_server)/.test(m))).toEqual([]);
    const on = await builtinsLoaded({ PROBE_PORT: String(await freePort()) });
    expect(on).toContain('NativeModule http');
  });
});
