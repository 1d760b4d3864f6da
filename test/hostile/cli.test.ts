// Bad command lines: each gets one clear message (a JSON line naming the problem), its own exit code
// (64 usage, 127 not found, 126 not executable), a final supervisor.exit, and nothing is started.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectNothingLeftAfterAll } from '../support/cleanup.js';
import { foreignLines, startSupervisor } from '../support/supervisor.js';
import { within } from '../support/wait.js';
import { world } from '../support/world.js';

expectNothingLeftAfterAll();

interface Case {
  name: string;
  args: (dir: string) => string[];
  env?: (dir: string) => Record<string, string>;
  code: number;
  event: 'usage.invalid' | 'child.spawn_failed';
  says: (dir: string) => string[];
}

const cases: Case[] = [
  { name: 'an unknown long flag', args: () => ['--bogus'], code: 64, event: 'usage.invalid', says: () => ['--bogus'] },
  { name: 'an unknown short flag', args: () => ['-x'], code: 64, event: 'usage.invalid', says: () => ['-x'] },
  { name: 'a bare word', args: () => ['print'], code: 64, event: 'usage.invalid', says: () => ['print', '--'] },
  { name: 'two modes', args: () => ['--print', '--check'], code: 64, event: 'usage.invalid', says: () => ['--check'] },
  { name: 'a flag after a mode flag', args: () => ['--check', '--bogus'], code: 64, event: 'usage.invalid', says: () => ['--bogus'] },
  // start() answers --help/--version by looking at the first argument only: whatever follows is not checked.
  { name: 'an unknown flag after --help', args: () => ['--help', '--bogus'], code: 64, event: 'usage.invalid', says: () => ['--bogus'] },
  {
    name: 'an extra argument after --version',
    args: () => ['--version', 'extra'],
    code: 64,
    event: 'usage.invalid',
    says: () => ['extra'],
  },
  { name: '-- alone', args: () => ['--'], code: 64, event: 'usage.invalid', says: () => ['--', 'command'] },
  { name: '-- with an empty program', args: () => ['--', ''], code: 64, event: 'usage.invalid', says: () => ['--'] },
  {
    name: 'a path that does not exist',
    args: (d) => ['--', join(d, 'missing', 'prog')],
    code: 127,
    event: 'child.spawn_failed',
    says: (d) => [join(d, 'missing', 'prog'), 'does not exist'],
  },
  {
    name: 'a name not on PATH',
    args: () => ['--', 'no-such-program-xyz'],
    code: 127,
    event: 'child.spawn_failed',
    says: () => ['no-such-program-xyz', 'PATH='],
  },
  {
    name: 'a file without the execute bit',
    args: (d) => ['--', join(d, 'plain.txt')],
    code: 126,
    event: 'child.spawn_failed',
    says: (d) => [join(d, 'plain.txt'), 'not executable'],
  },
  { name: 'a directory', args: (d) => ['--', d], code: 126, event: 'child.spawn_failed', says: (d) => [d, 'a directory'] },
  {
    name: 'a script whose interpreter does not exist',
    args: (d) => ['--', join(d, 'bad-interpreter')],
    code: 126,
    event: 'child.spawn_failed',
    says: (d) => [join(d, 'bad-interpreter')],
  },
  {
    name: "ROLE=web when PATH's only gunicorn is a directory",
    args: () => [],
    // PATH only picks the program: the supervisor itself runs from an absolute path. Never /usr/bin here, where
    // the real gunicorn and celery are installed.
    env: (d) => ({ ROLE: 'web', PATH: `${join(d, 'empty')}:${join(d, 'pathdir')}` }),
    code: 126,
    event: 'child.spawn_failed',
    says: (d) => [join(d, 'pathdir', 'gunicorn'), 'a directory'],
  },
  {
    name: 'ROLE=worker with no celery on PATH',
    args: () => [],
    env: (d) => ({ ROLE: 'worker', PATH: `${join(d, 'empty')}:${join(d, 'pathdir')}` }),
    code: 127,
    event: 'child.spawn_failed',
    says: () => ['celery', 'not on PATH'],
  },
];

describe('bad command lines and programs', () => {
  it.concurrent.each(cases)(
    '$name -> exit $code',
    async ({ args, env, code, event, says }) => {
      using w = world();
      writeFileSync(join(w.dir, 'plain.txt'), 'not a program\n');
      writeFileSync(join(w.dir, 'bad-interpreter'), '#!/nonexistent/interpreter\n');
      chmodSync(join(w.dir, 'bad-interpreter'), 0o755);
      mkdirSync(join(w.dir, 'pathdir', 'gunicorn'), { recursive: true });
      mkdirSync(join(w.dir, 'empty'));
      using run = await startSupervisor(args(w.dir), { env: { ...w.env, ...env?.(w.dir) } });
      const exit = await within(run.exited, 20_000, 'exit');
      expect(exit.code, run.stderr()).toBe(code);
      const logs = run.logs();
      const problems = logs.filter((l) => l.level === 'error' || l.level === 'fatal');
      expect(problems.map((l) => l.event)).toEqual([event]);
      for (const text of says(w.dir)) expect(problems[0]!.msg).toContain(text);
      expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code });
      expect(foreignLines(run.stderr())).toEqual([]); // no stack trace, no Node warning
      expect(run.stdout()).toBe('');
      expect(logs.some((l) => l.event === 'child.spawn')).toBe(false);
      expect(w.alive()).toEqual([]);
    },
    30_000,
  );

  it('--help and --version alone answer on stdout with exit 0 and start nothing', async () => {
    for (const [flag, expected] of [
      ['--help', 'Exit codes'],
      ['--version', '.'],
    ] as const) {
      using w = world();
      using run = await startSupervisor([flag], { env: w.env });
      const exit = await within(run.exited, 20_000, flag);
      expect(exit.code).toBe(0);
      expect(run.stdout()).toContain(expected);
      expect(w.alive()).toEqual([]);
    }
  }, 30_000);
});
