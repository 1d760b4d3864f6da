// "When probes are off, nothing of them is loaded": the built bundle, run with and without PROBE_PORT, reports
// which of Node's builtin modules it loaded (process.moduleLoadList) and how many sockets it held, both read on exit by
// a preload; and a probe port that cannot be bound stops the start before the program runs.
import { writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSupervisor } from '../support/supervisor.js';
import { world } from '../support/world.js';
import { freePort } from '../support/http.js';

async function atExit(env: Record<string, string>): Promise<{ builtins: string[]; sockets: number }> {
  using w = world();
  const out = join(w.dir, 'modules.json');
  const preload = join(w.dir, 'report-modules.cjs');
  // Only the supervisor reports (NODE_OPTIONS reaches the Node-based fake child too).
  writeFileSync(
    preload,
    `if (/supervisor\\.js$/.test(process.argv[1] ?? '')) process.on('exit', () => {
  const fs = require('node:fs');
  const sockets = fs.readdirSync('/proc/self/fd').filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } });
  fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({ modules: process.moduleLoadList, sockets: sockets.length }));
});\n`,
  );
  const sup = await startSupervisor(['--', 'fake-child'], {
    env: { ...w.env, FAKE_EXIT: '0', NODE_OPTIONS: `--require ${preload}`, ...env },
  });
  expect((await sup.exited).code).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { modules: string[]; sockets: number };
  return { builtins: report.modules.filter((m) => m.startsWith('NativeModule ')), sockets: report.sockets };
}

describe('the probe endpoint is loaded only when configured', () => {
  it('without PROBE_PORT nothing listens; with it one socket does, and node:http is loaded in neither case', async () => {
    const off = await atExit({});
    expect(off.builtins.length, 'the report works').toBeGreaterThan(20);
    const on = await atExit({ PROBE_PORT: String(await freePort()) });
    // Both hold the test's stdout and stderr pipes (socket pairs); with PROBE_PORT, one dual-stack listener more.
    expect(on.sockets - off.sockets, 'the endpoint listens on every address with one socket').toBe(1);
    // The endpoint answers on node:net; node:http would cost start-up and memory it does not need.
    for (const { builtins } of [off, on]) expect(builtins.filter((m) => /^NativeModule (_?http|_http_)/.test(m))).toEqual([]);
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
