import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadPlan, knownVariables } from '../../src/plan/load.js';

const OLD_START_SH = {
  web: 'gunicorn -w 1 -k gevent -b 0.0.0.0:8080 --worker-connections 100 --access-logfile - --error-logfile - --log-level info scripts.run_eveai_app:app',
  worker:
    'celery -A scripts.run_eveai_workers worker --loglevel=INFO --concurrency=2 --max-tasks-per-child=1000 --prefetch-multiplier=1 -O fair',
  beat: 'celery -A scripts.run_eveai_workers beat --loglevel=INFO',
};

function plan(env: Record<string, string>, command?: string[]) {
  const result = loadPlan(env, command);
  if (!result.ok) throw new Error(`unexpected problems: ${JSON.stringify(result.problems)}`);
  return result.plan;
}

function problems(env: Record<string, string>) {
  const result = loadPlan(env);
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.plan.argv)}`);
  return result.problems;
}

/** Every flag and value of the old start.sh appears, in order, in the new argv. */
function containsInOrder(argv: string[], expected: string[]) {
  let at = 0;
  for (const token of argv) if (token === expected[at]) at++;
  return at === expected.length;
}

describe('argv per role keeps every flag and default of the old start.sh', () => {
  for (const [role, command] of Object.entries(OLD_START_SH)) {
    it(role, () => {
      const argv = plan({ ROLE: role }).argv;
      expect(containsInOrder(argv, command.split(' ')), argv.join(' ')).toBe(true);
      expect(argv[0]).toBe(command.split(' ')[0]);
    });
  }

  it('web adds only the stop-related flags, derived from the stop timing', () => {
    const argv = plan({ ROLE: 'web', STOP_TIMEOUT: '10', ESCALATION_GRACE: '2.5' }).argv;
    const extra = argv.filter((token) => !OLD_START_SH.web.split(' ').includes(token));
    expect(extra).toEqual(['--graceful-timeout', '13', '--worker-tmp-dir', '/dev/shm']);
  });

  it('ROLE defaults to web, like start.sh', () => {
    expect(plan({}).role).toBe('web');
    expect(plan({ ROLE: '' }).role).toBe('web');
  });
});

describe('overrides reach the argv as canonical values', () => {
  it('web', () => {
    const argv = plan({
      ROLE: 'web',
      WORKERS: '4',
      WORKER_CLASS: 'gthread',
      PORT: '0900',
      WORKER_CONN: '250',
      LOGLEVEL: 'WARNING',
      WSGI_APP: 'app.main:create_app()',
    }).argv;
    expect(argv.join(' ')).toContain('-w 4 -k gthread -b 0.0.0.0:900 --worker-connections 250');
    expect(argv).toContain('warning');
    expect(argv.at(-1)).toBe('app.main:create_app()');
  });

  it('web accepts a dotted worker class path', () => {
    expect(plan({ WORKER_CLASS: 'uvicorn.workers.UvicornWorker' }).argv).toContain('uvicorn.workers.UvicornWorker');
  });

  it('worker with queues', () => {
    const argv = plan({
      ROLE: 'worker',
      CELERY_APP: 'eveai_workers.app',
      CELERY_LOGLEVEL: 'debug',
      CELERY_CONCURRENCY: '8',
      CELERY_MAX_TASKS_PER_CHILD: '50',
      CELERY_PREFETCH: '0',
      CELERY_QUEUES: 'embeddings, llm',
    }).argv;
    expect(argv).toEqual([
      'celery',
      '-A',
      'eveai_workers.app',
      'worker',
      '--loglevel=DEBUG',
      '--concurrency=8',
      '--max-tasks-per-child=50',
      '--prefetch-multiplier=0',
      '-O',
      'fair',
      '-Q',
      'embeddings,llm',
    ]);
  });

  it('beat with a schedule file and never a pidfile', () => {
    const argv = plan({ ROLE: 'beat', CELERY_BEAT_SCHEDULE: '/tmp/beat/schedule' }).argv;
    expect(argv).toEqual(['celery', '-A', 'scripts.run_eveai_workers', 'beat', '--loglevel=INFO', '-s', '/tmp/beat/schedule']);
    expect(argv.join(' ')).not.toMatch(/pid/);
  });

  it('a one-off command is taken verbatim and ignores ROLE', () => {
    const p = plan({ ROLE: 'nonsense' }, ['flask', 'db', 'upgrade', '$HOME; rm -rf /']);
    expect(p.role).toBe('command');
    expect(p.argv).toEqual(['flask', 'db', 'upgrade', '$HOME; rm -rf /']);
  });

  it('timings are milliseconds', () => {
    expect(plan({ STOP_TIMEOUT: '0.5', DRAIN_DELAY: '5', ESCALATION_GRACE: '0' }).settings).toMatchObject({
      stopTimeoutMs: 500,
      drainDelayMs: 5000,
      escalationGraceMs: 0,
    });
  });
});

describe('invalid configuration: one problem per variable, naming value and expectation', () => {
  it.each([
    ['PORT', '0', 'an integer from 1 to 65535'],
    ['PORT', '65536', 'an integer from 1 to 65535'],
    ['PORT', '80a', 'an integer from 1 to 65535'],
    ['PORT', ' 80', 'an integer from 1 to 65535'],
    ['PORT', '+80', 'an integer from 1 to 65535'],
    ['PORT', '8e3', 'an integer from 1 to 65535'],
    ['WORKERS', '0', 'an integer from 1 to 1024'],
    ['WORKERS', '-1', 'an integer from 1 to 1024'],
    ['WORKERS', '2.5', 'an integer from 1 to 1024'],
    ['WORKER_CONN', '0x10', 'an integer from 1 to 100000'],
    ['WORKER_CLASS', 'gevnet', 'one of sync, eventlet, gevent'],
    ['WORKER_CLASS', 'a;b', 'one of sync'],
    ['LOGLEVEL', 'verbose', 'one of debug, info, warning, error, critical'],
    ['WSGI_APP', 'scripts/run.py', 'a Python module path'],
    ['WSGI_APP', 'app:$(id)', 'a Python module path'],
    ['STOP_TIMEOUT', '-1', 'a number of seconds from 0 to 3600'],
    ['STOP_TIMEOUT', '30s', 'a number of seconds from 0 to 3600'],
    ['DRAIN_DELAY', '3601', 'a number of seconds from 0 to 3600'],
    ['SUPERVISOR_LOG_LEVEL', 'loud', 'one of fatal, error, warn, info, debug, trace, silent'],
    ['SUPERVISOR_MODE', 'fork', 'one of supervise, exec'],
  ])('%s=%j', (variable, value, expected) => {
    const found = problems({ ROLE: 'web', [variable]: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ variable, value });
    expect(found[0]!.expected).toContain(expected);
  });

  it.each([
    ['CELERY_CONCURRENCY', '0'],
    ['CELERY_PREFETCH', '-1'],
    ['CELERY_MAX_TASKS_PER_CHILD', '1.0'],
    ['CELERY_LOGLEVEL', 'LOUD'],
    ['CELERY_QUEUES', 'a,,b'],
    ['CELERY_QUEUES', '-Q,x'],
    ['CELERY_APP', 'x y'],
  ])('worker %s=%j', (variable, value) => {
    expect(problems({ ROLE: 'worker', [variable]: value }).map((p) => p.variable)).toEqual([variable]);
  });

  it.each([['-s'], ['/tmp/a\nb'], ['--pidfile=/x']])('beat CELERY_BEAT_SCHEDULE=%j', (value) => {
    expect(problems({ ROLE: 'beat', CELERY_BEAT_SCHEDULE: value }).map((p) => p.variable)).toEqual(['CELERY_BEAT_SCHEDULE']);
  });

  it('reports every invalid variable at once', () => {
    const found = problems({ ROLE: 'web', PORT: 'x', WORKERS: '0', STOP_TIMEOUT: 'soon', LOGLEVEL: 'loud' });
    expect(found.map((p) => p.variable).sort()).toEqual(['LOGLEVEL', 'PORT', 'STOP_TIMEOUT', 'WORKERS']);
  });

  it('an unknown ROLE lists the valid roles, and common variables are still checked', () => {
    const found = problems({ ROLE: 'scheduler', STOP_TIMEOUT: 'x' });
    expect(found).toContainEqual({ variable: 'ROLE', value: 'scheduler', expected: 'one of web, worker, beat' });
    expect(found.map((p) => p.variable)).toContain('STOP_TIMEOUT');
  });

  it('variables of another role are not validated for this one', () => {
    expect(plan({ ROLE: 'beat', PORT: 'not-a-port' }).role).toBe('beat');
  });

  it('exec mode is refused for the worker, with the reason', () => {
    const [problem] = problems({ ROLE: 'worker', SUPERVISOR_MODE: 'exec' });
    expect(problem).toMatchObject({ variable: 'SUPERVISOR_MODE', value: 'exec' });
    expect(problem!.expected).toMatch(/pool children/);
    expect(plan({ ROLE: 'web', SUPERVISOR_MODE: 'exec' }).settings.mode).toBe('exec');
  });
});

describe("settings that silently break a worker's stop are refused", () => {
  it('REMAP_SIGTERM with any value is refused for ROLE=worker, its value never reported', () => {
    for (const value of ['SIGQUIT', 'SIGINT']) {
      const [problem] = problems({ ROLE: 'worker', REMAP_SIGTERM: value });
      expect(problem).toMatchObject({ variable: 'REMAP_SIGTERM', value: '(set, value not shown)' });
      expect(problem!.expected).toMatch(/warm shutdown .* cold one.*STOP_TIMEOUT=0/);
    }
  });

  it('REMAP_SIGTERM empty (= unset for billiard) is accepted, and other roles ignore it', () => {
    expect(plan({ ROLE: 'worker', REMAP_SIGTERM: '' }).role).toBe('worker');
    expect(plan({ ROLE: 'beat', REMAP_SIGTERM: 'SIGQUIT' }).role).toBe('beat');
    expect(plan({ ROLE: 'web', REMAP_SIGTERM: 'SIGQUIT' }).role).toBe('web');
  });

  it('is reported together with every other problem', () => {
    expect(
      problems({ ROLE: 'worker', REMAP_SIGTERM: 'SIGQUIT', CELERY_CONCURRENCY: 'many' })
        .map((p) => p.variable)
        .sort(),
    ).toEqual(['CELERY_CONCURRENCY', 'REMAP_SIGTERM']);
  });
});

describe('advice on valid but risky values', () => {
  const advice = (env: Record<string, string>) => {
    const result = loadPlan(env);
    if (!result.ok) throw new Error('expected a valid configuration');
    return result.advice;
  };

  it('a worker ESCALATION_GRACE too short for celery to restore its unacked messages is warned about', () => {
    const [warning] = advice({ ROLE: 'worker', ESCALATION_GRACE: '1' });
    expect(warning).toMatchObject({ variable: 'ESCALATION_GRACE', value: '1' });
    expect(warning!.advice).toMatch(/at least 2 s for ROLE=worker/);
  });

  it("a worker stop budget that reaches Redis's visibility timeout is warned about", () => {
    const [warning] = advice({ ROLE: 'worker', STOP_TIMEOUT: '3598' });
    expect(warning).toMatchObject({ variable: 'STOP_TIMEOUT', value: '3598' });
    expect(warning!.advice).toMatch(/visibility_timeout .*3600 s.*runs twice/);
    expect(advice({ ROLE: 'worker', STOP_TIMEOUT: '3596' }), 'just below (3596 + 3)').toEqual([]);
    expect(advice({ ROLE: 'web', STOP_TIMEOUT: '3600' }), 'web has no broker').toEqual([]);
  });

  it('the defaults, and other roles, draw no advice', () => {
    expect(advice({ ROLE: 'worker' })).toEqual([]);
    expect(advice({ ROLE: 'worker', ESCALATION_GRACE: '2' })).toEqual([]);
    expect(advice({ ROLE: 'web', ESCALATION_GRACE: '0' })).toEqual([]);
  });
});

describe('near misses name the intended variable', () => {
  const nearMisses = (env: Record<string, string>) => loadPlan(env).nearMisses;

  it.each([
    ['WORKER', 'WORKERS'],
    ['CELERY_CONCURENCY', 'CELERY_CONCURRENCY'],
    ['STOP_TIMOUT', 'STOP_TIMEOUT'],
    ['port', 'PORT'],
    ['CELERY_QUEUE', 'CELERY_QUEUES'],
    ['ROLES', 'ROLE'],
  ])('%s -> %s', (typo, intended) => {
    expect(nearMisses({ [typo]: '1' })).toContainEqual({ variable: typo, intended });
  });

  it.each(['HOME', 'PATH', 'HOSTNAME', 'DATABASE_URL', 'REDIS_PORT', 'PYTHONPATH', 'WORKERS'])('%s is not a near miss', (name) => {
    expect(nearMisses({ [name]: '1' })).toEqual([]);
  });

  it('a name is reported exactly when a plain Levenshtein distance says so (names made by editing known ones)', () => {
    // The oracle: the full distance table, no shortcut; the first known name within 1 edit (2 from 8 characters on) wins.
    const levenshtein = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
      );
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++)
          d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      return d[a.length]![b.length]!;
    };
    const known = knownVariables();
    const intended = (name: string) => known.find((k) => levenshtein(name.toUpperCase(), k) <= (k.length >= 8 ? 2 : 1));
    const letter = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789abcdefghijklmnopqrstuvwxyz');
    const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), letter);
    const edited = fc.tuple(fc.constantFrom(...known), fc.array(edit, { maxLength: 4 })).map(([name, edits]) =>
      edits.reduce((s, [kind, at, c]) => {
        const i = at % (s.length + 1);
        return kind === 'insert'
          ? s.slice(0, i) + c + s.slice(i)
          : kind === 'delete'
            ? s.slice(0, i) + s.slice(i + 1)
            : s.slice(0, i) + c + s.slice(i + 1);
      }, name),
    );
    const names = fc.uniqueArray(fc.oneof(edited, fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/)), { maxLength: 12 });
    fc.assert(
      fc.property(names, (list) => {
        const env = Object.fromEntries(
          list
            .filter(
              (n) =>
                n !== '' &&
                !known.includes(n) &&
                ![
                  'HOME',
                  'PATH',
                  'PWD',
                  'OLDPWD',
                  'USER',
                  'SHELL',
                  'TERM',
                  'LANG',
                  'HOSTNAME',
                  'SHLVL',
                  'TZ',
                  'PS1',
                  'MAIL',
                  'LOGNAME',
                ].includes(n),
            )
            .map((n) => [n, '1']),
        );
        const expected = Object.keys(env).flatMap((variable) => {
          const target = intended(variable);
          return target ? [{ variable, intended: target }] : [];
        });
        expect(nearMisses(env)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('every known variable is known', () => {
    expect(knownVariables()).toEqual(
      expect.arrayContaining(['ROLE', 'PORT', 'CELERY_QUEUES', 'CELERY_BEAT_SCHEDULE', 'STOP_TIMEOUT', 'DRAIN_DELAY']),
    );
  });
});
