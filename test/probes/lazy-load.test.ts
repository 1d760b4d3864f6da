// "When probes are off, nothing of them is loaded": the built bundle, run with and without PROBE_PORT, reports
// which of Node's builtin modules it loaded (process.moduleLoadList, read on exit by a preload); and a probe port that
// cannot be bound stops the start before the program runs.
import { writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { world } from '../support/world.js';
import { freePort } from '../support/http.js';

async function builtinsLoaded(env: Record<string, string>): Promise<string[]> {
  using w = world();
  const out = join(w.dir, 'modules.json');
  const preload = join(w.dir, 'report-modules.cjs');
  // Only the supervisor reports (NODE_OPTIONS reaches the Node-based fake child too).
  writeFileSync(
    preload,
    `if (/supervisor\\.js$/.test(process.argv[1] ?? '')) process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`,
  );
  const sup = await startSupervisor(['--', 'fake-child'], {
    env: { ...w.env, FAKE_EXIT: '0', NODE_OPTIONS: `--require ${preload}`, ...env },
  });
  expect((await sup.exited).code).toBe(0);
  return (JSON.parse(readFileSync(out, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule '));
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

describe('a probe port that cannot be bound', () => {
  it('is one clear line and exit 70, and the program is never started', async () => {
    const w = world();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const sup = await startSupervisor(['--', 'fake-child'], { env: { ...w.env, PROBE_PORT: String(port) } });
      expect((await sup.exited).code).toBe(70);
      const failed = sup.logs().filter((l) => l.event === 'probe.listen_failed');
      expect(failed).toEqual([expect.objectContaining({ level: 'error', port, reason: expect.stringContaining('EADDRINUSE') })]);
      expect(sup.logs().map((l) => l.event)).not.toContain('child.spawn');
      expect(sup.logs().at(-1)).toMatchObject({ event: 'supervisor.exit', code: 70 });
    } finally {
      taken.close();
      expect(w.cleanup()).toEqual([]);
    }
  });
});
