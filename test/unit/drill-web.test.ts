// The web drill's pieces that need no process: the balancer configurations (checked by HAProxy itself) and the
// parameters the environment overrides.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { requireProgram } from '../support/command.js';
import { haproxyConfig, type Slot } from '../support/drill/haproxy.js';
import { BALANCERS, connectionsFor, FULL_WEB_DRILL, webDrillParameters } from '../support/drill/web-drill.js';
import { TRIXIE } from '../support/real/versions.js';

const slots: Slot[] = [0, 1, 2].map((i) => ({ name: `slot${i}`, port: 20_000 + i, ready: { port: 21_000 + i, path: '/ready' } }));

describe('the drill balancer configurations', () => {
  for (const balancer of BALANCERS) {
    it(`${balancer.id}: HAProxy accepts it (haproxy -c)`, () => {
      const dir = tempDir('eveai-haproxy-config-');
      const file = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(file, haproxyConfig({ name: balancer.id, ...balancer, slots }, 19_999, path.join(dir, 'admin.sock')));
      const check = spawnSync(requireProgram('haproxy'), ['-c', '-f', file], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    });
  }

  it('L4 never retries, as kube-proxy; HTTP retries and redispatches', () => {
    const config = (mode: 'http' | 'tcp') => haproxyConfig({ name: 'x', mode, removal: 'kube-proxy', slots }, 1, '/s');
    expect(config('tcp')).toMatch(/^\s+retries 0$/m);
    expect(config('tcp')).not.toMatch(/redispatch|retry-on/);
    expect(config('http')).toMatch(/^\s+retries 3$/m);
    expect(config('http')).toMatch(/^\s+option redispatch 1$/m);
  });

  it('health checks ask each slot its readiness URL every 2 s, one failure takes it out; the kube-proxy-like way starts every slot out', () => {
    const checks = haproxyConfig({ name: 'x', mode: 'tcp', removal: 'health-checks', slots }, 1, '/s');
    expect(checks).toContain('option httpchk GET /ready');
    expect(checks).toContain('server slot1 127.0.0.1:20001 check port 21001 inter 2000ms fall 1 rise 1');
    const kubeProxy = haproxyConfig({ name: 'x', mode: 'tcp', removal: 'kube-proxy', slots }, 1, '/s');
    expect(kubeProxy).toContain('server slot1 127.0.0.1:20001 disabled');
    expect(kubeProxy).not.toMatch(/httpchk|:[0-9]+ check/);
  });
});

describe('the web drill parameters', () => {
  const defaults = FULL_WEB_DRILL;

  it('the environment overrides each of them', () => {
    const parameters = webDrillParameters(defaults, {
      DRILL_WEB_ROLLS: '3',
      DRILL_WEB_COMPARE_ROLLS: '0',
      DRILL_WEB_RATE: '100',
      DRILL_WEB_SETTLE_S: '0.5',
      DRILL_WEB_PROPAGATION_S: '4',
      DRILL_WEB_SETS: 'trixie',
      DRILL_WEB_BALANCERS: 'tcp-kube-proxy,http-checks',
      DRILL_WEB_DRAIN_DELAYS: '',
      DRILL_WEB_START_SH: '0',
    });
    expect(parameters).toMatchObject({
      rolls: 3,
      compareRolls: 0,
      rate: 100,
      settleMs: 500,
      propagationMs: 4000,
      drainDelays: [],
      startSh: false,
    });
    expect(parameters.versionSets).toEqual([TRIXIE]);
    expect(parameters.balancers.map((b) => b.id)).toEqual(['tcp-kube-proxy', 'http-checks']);
    expect(webDrillParameters(defaults, {})).toEqual(defaults);
  });

  it('a bad value is an error naming the variable, never a silent default', () => {
    expect(() => webDrillParameters(defaults, { DRILL_WEB_ROLLS: 'many' })).toThrow(/DRILL_WEB_ROLLS="many"/);
    expect(() => webDrillParameters(defaults, { DRILL_WEB_SETS: 'sid' })).toThrow(
      /DRILL_WEB_SETS="sid": "sid" is not one of bookworm, trixie/,
    );
    expect(() => webDrillParameters(defaults, { DRILL_WEB_DRAIN_DELAYS: '1,x' })).toThrow(/DRILL_WEB_DRAIN_DELAYS/);
  });

  it('the rate is split over the two load generators, one request in flight per connection', () => {
    expect(connectionsFor(300)).toBe(8);
    expect(connectionsFor(1)).toBe(1);
  });
});
