import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, findRole } from '../../src/roles/index.js';
import { commandRole } from '../../src/roles/command.js';
import { HANDLED_SIGNALS } from '../../src/signals/trap.js';
import { renderSignalTable } from '../../src/config/help.js';
import { ROOT } from '../helpers/supervisor.js';

const role = (name: string) => findRole(name)!;

describe('signal policy tables', () => {
  it('every role decides every handled signal, with a reason', () => {
    for (const r of [...ROLES, commandRole(['true'])]) {
      for (const signal of HANDLED_SIGNALS) {
        const rule = r.policy.rules[signal];
        expect(rule, `${r.name} ${signal}`).toBeDefined();
        expect(rule.why.length, `${r.name} ${signal}`).toBeGreaterThan(5);
      }
    }
  });

  it('TERM and INT are graceful stop requests that send TERM to the leader for every service role', () => {
    for (const r of ROLES) {
      expect(r.policy.rules.SIGTERM).toMatchObject({ action: 'stop', send: 'SIGTERM' });
      expect(r.policy.rules.SIGINT).toMatchObject({ action: 'stop', send: 'SIGTERM' });
    }
  });

  it('the celery worker never gets anything sent to its whole group except SIGKILL at the very end', () => {
    const { policy } = role('worker');
    for (const signal of HANDLED_SIGNALS) expect(policy.rules[signal]).not.toMatchObject({ target: 'group' });
    expect(policy.hardStop).toMatchObject({ signal: 'SIGQUIT', target: 'leader' });
  });

  it('gunicorn: HUP reloads via the master only; USR2 (binary upgrade) is dropped', () => {
    const { policy } = role('web');
    expect(policy.rules.SIGHUP).toMatchObject({ action: 'forward', target: 'leader' });
    expect(policy.rules.SIGTTIN).toMatchObject({ action: 'forward', target: 'leader' });
    expect(policy.rules.SIGUSR2.action).toBe('drop');
    expect(policy.hardStop).toMatchObject({ signal: 'SIGQUIT', target: 'group' });
    expect(policy.drains).toBe(true);
  });

  it('beat only ever receives TERM (the one signal after which it saves its schedule)', () => {
    const { policy } = role('beat');
    for (const signal of HANDLED_SIGNALS) {
      const rule = policy.rules[signal];
      if (rule.action === 'stop') expect(rule.send).toBe('SIGTERM');
      else expect(rule.action).toBe('drop');
    }
    expect(policy.hardStop).toBeUndefined();
  });

  it('only web drains', () => {
    expect(ROLES.filter((r) => r.policy.drains).map((r) => r.name)).toEqual(['web']);
  });

  it('the README carries the table the code generates', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(renderSignalTable(ROLES));
    expect(readme).toContain(renderSignalTable([commandRole(['CMD'])]));
  });
});

describe('README tables follow the code', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(ROOT, 'src', file), 'utf8'));

  it('every log event the code emits is in the log table', () => {
    const events = new Set(sources.flatMap((source) => [...source.matchAll(/event: '([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]!)));
    expect(events.size).toBeGreaterThan(15);
    for (const event of events) expect(readme, event).toContain(`| \`${event}\` |`);
  });

  it('every variable the supervisor reads is in the environment table', async () => {
    const { knownVariables } = await import('../../src/config/load.js');
    for (const name of knownVariables()) expect(readme, name).toContain(`| \`${name}\` |`);
  });
});
