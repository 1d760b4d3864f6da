// Telling `tini -g` (or TINI_KILL_PROCESS_GROUP) from plain tini by the parent's argv, as tini 0.19's getopt() reads
// it ("p:hvwgle:s": -p and -e take an argument, the rest are flags that combine). The real tini, -g and plain, runs in
// test/integration/supervise.test.ts.
import { describe, expect, it } from 'vitest';
import { tiniGroupAdvice } from '../../src/plan/parent-init.js';

const SUPERVISOR = ['node', '--max-semi-space-size=1', '/app/dist/supervisor.js'];
const advise = (parent: string[], env: NodeJS.ProcessEnv = {}, own = SUPERVISOR) => tiniGroupAdvice([...parent, ...own], own, env);

describe('tini -g as the parent', () => {
  it.each([
    [['/usr/bin/tini', '-g', '--'], '/usr/bin/tini -g'],
    [['/usr/bin/tini-static', '-g', '--'], '/usr/bin/tini-static -g'],
    [['tini', '-sg', '--'], 'tini -sg'],
    [['tini', '-vvg'], 'tini -vvg'],
    [['/sbin/docker-init', '-g', '--'], '/sbin/docker-init -g'],
    [['tini', '-p', 'SIGTERM', '-g', '--'], 'tini -p SIGTERM -g'],
    [['tini', '-e', '143', '-wg', '--'], 'tini -e 143 -wg'],
    [['tini', '-pSIGKILL', '-g', '--'], 'tini -pSIGKILL -g'],
  ])('%j: advice names the ENTRYPOINT with tini options only', (parent, value) => {
    const advice = advise(parent);
    expect(advice).toMatchObject({ variable: 'ENTRYPOINT', value });
    expect(advice?.advice).toContain('ENTRYPOINT ["/usr/bin/tini-static", "--"]');
  });

  it('an argument of -p or -e that contains g is no -g', () => {
    expect(advise(['tini', '-pg', '--'])).toBeUndefined(); // -p's argument is "g"
    expect(advise(['tini', '-p', '-g', '--'])).toBeUndefined(); // -p's argument is "-g"
    expect(advise(['tini', '-e', 'g', '--'])).toBeUndefined();
  });

  it("the supervisor's own arguments are not tini's: -g after `--` or inside the child's argv is no -g", () => {
    expect(advise(['tini', '--'], {}, ['node', '/app/dist/supervisor.js', '--', 'psql', '-g'])).toBeUndefined();
    // A one-off command's arguments never reach the logged value.
    const advice = advise(['tini', '-g', '--'], {}, ['node', '/app/dist/supervisor.js', '--', 'psql', 'postgres://u:secret@db']);
    expect(advice?.value).toBe('tini -g');
  });

  it("glibc's getopt also takes -g after the program name when there is no `--` (the child's argv is then no suffix)", () => {
    // `tini node supervisor.js -g`: tini runs `node supervisor.js` and forwards to groups.
    expect(tiniGroupAdvice(['tini', 'node', '/app/dist/supervisor.js', '-g'], ['node', '/app/dist/supervisor.js'], {})).toMatchObject({
      variable: 'ENTRYPOINT',
      value: 'tini -g',
    });
  });

  it('TINI_KILL_PROCESS_GROUP set to anything, even empty, is -g; its value is not shown', () => {
    for (const value of ['1', '', 'no']) {
      expect(advise(['tini', '--'], { TINI_KILL_PROCESS_GROUP: value })).toEqual({
        variable: 'TINI_KILL_PROCESS_GROUP',
        value: '(set, value not shown)',
        advice: expect.stringContaining('no -g, no TINI_KILL_PROCESS_GROUP'),
      });
    }
  });
});

describe('no advice', () => {
  it.each([[['/usr/bin/tini', '--']], [['/usr/bin/tini-static', '--']], [['tini', '-s', '-v', '-p', 'SIGKILL']], [['tini']]])(
    'plain tini %j',
    (parent) => expect(advise(parent)).toBeUndefined(),
  );

  it('a parent that is not tini, whatever its arguments and the environment', () => {
    expect(advise(['bash', '-c', '"$@"; exit $?', '-g'], { TINI_KILL_PROCESS_GROUP: '1' })).toBeUndefined();
    expect(advise(['dumb-init', '--'])).toBeUndefined();
    expect(advise(['/usr/bin/catatonit', '-g', '--'])).toBeUndefined();
    expect(tiniGroupAdvice([], SUPERVISOR, {})).toBeUndefined();
  });
});
