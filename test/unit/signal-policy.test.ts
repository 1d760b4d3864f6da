import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { ROLES, findRole } from '../../src/roles/index.js';
import { commandRole } from '../../src/roles/command.js';
import { ALIASES, HANDLED_SIGNALS, NOT_LISTENED } from '../../src/signals/trap.js';
import { renderSignalTable, renderUnlistenedTable } from '../../src/cli/help.js';
import { ROOT } from '../support/paths.js';

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

  it('every signal Node names is handled, an alias of a handled one, or unlistened with a reason', () => {
    const names = Object.keys(constants.signals);
    const covered = [...HANDLED_SIGNALS, ...Object.keys(ALIASES), ...Object.keys(NOT_LISTENED)];
    expect([...covered].sort()).toEqual([...names].sort());
    expect(new Set(covered).size).toBe(covered.length);
    const number = (name: string) => (constants.signals as Record<string, number>)[name];
    for (const [alias, name] of Object.entries(ALIASES)) expect(number(alias), alias).toBe(number(name));
    // Handled names are distinct signals: one kill never becomes two events.
    expect(new Set(HANDLED_SIGNALS.map(number)).size).toBe(HANDLED_SIGNALS.length);
  });

  it('no service role lets a signal take its default action on the program: only TERM-like stops, hard stops, known forwards', () => {
    for (const r of ROLES) {
      for (const signal of HANDLED_SIGNALS) {
        const rule = r.policy.rules[signal];
        if (rule.action === 'stop') expect(rule.send, `${r.name} ${signal}`).toBe('SIGTERM');
        if (rule.action === 'forward') expect(['SIGHUP', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU'], `${r.name} ${signal}`).toContain(signal);
      }
      expect(r.policy.rules.SIGPWR, r.name).toMatchObject({ action: 'stop', send: 'SIGTERM' });
      expect(r.policy.rules.SIGTSTP.action, r.name).toBe('drop');
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
    expect(policy.drains.length).toBeGreaterThan(0);
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
    expect(ROLES.filter((r) => r.policy.drains.length > 0).map((r) => r.name)).toEqual(['web']);
  });

  it("web drains on the orchestrators' stop requests (TERM, PWR), never on a terminal's Ctrl-C (INT)", () => {
    const { policy } = role('web');
    expect([...policy.drains].sort()).toEqual(['SIGPWR', 'SIGTERM']);
    for (const signal of policy.drains) expect(policy.rules[signal].action, signal).toBe('stop');
    expect(policy.rules.SIGINT).toMatchObject({ action: 'stop', send: 'SIGTERM' });
  });

  it('the signal table says which stop requests wait DRAIN_DELAY first', () => {
    const table = renderSignalTable([role('web')]);
    const row = (signal: string) => table.split('\n').find((line) => line.startsWith(`| ${signal} |`))!;
    expect(row('SIGTERM')).toContain('DRAIN_DELAY, then SIGTERM');
    expect(row('SIGPWR')).toContain('DRAIN_DELAY, then SIGTERM');
    expect(row('SIGINT')).toContain('without DRAIN_DELAY');
    expect(renderSignalTable([role('worker')])).not.toContain('DRAIN_DELAY');
  });

  it('the README carries the table the code generates', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(renderSignalTable(ROLES));
    expect(readme).toContain(renderSignalTable([commandRole(['CMD'])]));
    expect(readme).toContain(renderUnlistenedTable());
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
    const { knownVariables } = await import('../../src/plan/load.js');
    for (const name of knownVariables()) expect(readme, name).toContain(`| \`${name}\` |`);
  });
});
