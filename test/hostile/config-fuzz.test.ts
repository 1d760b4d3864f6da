// Property-based tests over the environment. The oracle below is written from the interface contract, not
// from src/: for every variable it decides valid/invalid and the canonical value, and from those the exact
// argv. Properties:
//  - loadPlan() never throws; it returns a plan whose argv is exactly the oracle's (only validated, canonical
//    values) or the exact set of invalid variables, each once;
//  - no value of a variable the supervisor does not own appears anywhere in the result;
//  - the real binary (fewer runs): never a stack trace or any non-JSON line; exit 78 with one config.invalid
//    line per invalid variable and no program started, or the program started with exactly that argv and
//    every variable passed through byte for byte; no value is ever run through a shell.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan } from '../../src/plan/load.js';
import { expectNothingLeftAfterAll, tempDir } from '../support/cleanup.js';
import { events, exitOf, foreignLines, startSupervisor } from '../support/supervisor.js';
import { within } from '../support/wait.js';
import { readReport, world } from '../support/world.js';

expectNothingLeftAfterAll();

// ---------------------------------------------------------------------------------------------------------
// The oracle (from the contract: names, defaults, ranges, argv shapes).
type Env = Record<string, string | undefined>;
type Verdict<T> = { ok: true; value: T } | { ok: false };
const ok = <T>(value: T): Verdict<T> => ({ ok: true, value });
const BAD = { ok: false } as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const GUNICORN_CLASSES = ['sync', 'eventlet', 'gevent', 'gevent_wsgi', 'gevent_pywsgi', 'tornado', 'gthread'];
const GUNICORN_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'];
const CELERY_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'FATAL'];
const ID = '[A-Za-z_][A-Za-z0-9_]*';

const given = (env: Env, name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
const withDefault = (env: Env, name: string, fallback: string) => given(env, name) ?? fallback;

function integer(raw: string, min: number, max: number): Verdict<number> {
  if (!/^[0-9]+$/.test(raw)) return BAD;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : BAD;
}
function seconds(raw: string): Verdict<number> {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) return BAD;
  const n = Number(raw);
  return Number.isFinite(n) && n <= 3600 ? ok(Math.round(n * 1000)) : BAD;
}
function word(raw: string, words: string[], canonical: (s: string) => string): Verdict<string> {
  const match = words.find((w) => canonical(w) === canonical(raw));
  return match === undefined ? BAD : ok(match);
}
const lower = (s: string) => s.toLowerCase();
const upper = (s: string) => s.toUpperCase();
const python = (raw: string, factory: boolean) =>
  new RegExp(`^${ID}(\\.${ID})*(:${ID}(\\.${ID})*${factory ? '(\\(\\))?' : ''})?$`).test(raw) ? ok(raw) : BAD;
const workerClass = (raw: string) => (GUNICORN_CLASSES.includes(raw) || new RegExp(`^${ID}(\\.${ID})+$`).test(raw) ? ok(raw) : BAD);
function queues(raw: string): Verdict<string[]> {
  const items = raw.split(',').map((s) => s.trim());
  return items.every((s) => /^[A-Za-z0-9_.:@/-]+$/.test(s) && !s.startsWith('-')) ? ok(items) : BAD;
}
const path = (raw: string) => (raw.length <= 4096 && !/[\x00-\x1f\x7f]/.test(raw) && !raw.startsWith('-') ? ok(raw) : BAD);

interface Expected {
  invalid: string[];
  argv?: string[];
  mode?: string;
}

function oracle(env: Env, command?: string[]): Expected {
  const invalid: string[] = [];
  const check = <T>(name: string, verdict: Verdict<T>): T | undefined => {
    if (verdict.ok) return verdict.value;
    invalid.push(name);
    return undefined;
  };
  // web's own stop timing defaults (README, Environment); every other role, and an unknown ROLE, the common ones.
  const isWeb = !command && withDefault(env, 'ROLE', 'web').toLowerCase() === 'web';
  const stop = check('STOP_TIMEOUT', seconds(withDefault(env, 'STOP_TIMEOUT', isWeb ? '20' : '25')));
  check('DRAIN_DELAY', seconds(withDefault(env, 'DRAIN_DELAY', isWeb ? '5' : '0')));
  const grace = check('ESCALATION_GRACE', seconds(withDefault(env, 'ESCALATION_GRACE', '3')));
  check('SUPERVISOR_LOG_LEVEL', word(withDefault(env, 'SUPERVISOR_LOG_LEVEL', 'info'), LOG_LEVELS, lower));
  const mode = check('SUPERVISOR_MODE', word(withDefault(env, 'SUPERVISOR_MODE', 'supervise'), ['supervise', 'exec'], lower));

  let role: string | undefined = 'command';
  if (!command) {
    role = word(withDefault(env, 'ROLE', 'web'), ['web', 'worker', 'beat'], lower).ok
      ? withDefault(env, 'ROLE', 'web').toLowerCase()
      : undefined;
    if (role === undefined) invalid.push('ROLE');
  }
  let argv: (string | undefined)[] | undefined;
  const v = (name: string, fallback: string) => withDefault(env, name, fallback);
  if (role === 'command') argv = [...command!];
  if (role === 'web') {
    const workers = check('WORKERS', integer(v('WORKERS', '1'), 1, 1024));
    const klass = check('WORKER_CLASS', workerClass(v('WORKER_CLASS', 'gevent')));
    const port = check('PORT', integer(v('PORT', '8080'), 1, 65535));
    const conn = check('WORKER_CONN', integer(v('WORKER_CONN', '100'), 1, 100000));
    const level = check('LOGLEVEL', word(v('LOGLEVEL', 'info'), GUNICORN_LEVELS, lower));
    const app = check('WSGI_APP', python(v('WSGI_APP', 'scripts.run_eveai_app:app'), true));
    const graceful = stop === undefined || grace === undefined ? undefined : String(Math.max(1, Math.ceil((stop + grace) / 1000)));
    argv = [
      'gunicorn',
      '-w',
      String(workers),
      '-k',
      klass,
      '-b',
      `0.0.0.0:${port}`,
      '--worker-connections',
      String(conn),
      '--access-logfile',
      '-',
      '--error-logfile',
      '-',
      '--log-level',
      level,
      '--graceful-timeout',
      graceful,
      '--worker-tmp-dir',
      '/dev/shm',
      app,
    ];
  }
  if (role === 'worker' || role === 'beat') {
    const app = check('CELERY_APP', python(v('CELERY_APP', 'scripts.run_eveai_workers'), false));
    const level = check('CELERY_LOGLEVEL', word(v('CELERY_LOGLEVEL', 'INFO'), CELERY_LEVELS, upper));
    if (role === 'worker') {
      const concurrency = check('CELERY_CONCURRENCY', integer(v('CELERY_CONCURRENCY', '2'), 1, 1024));
      const maxTasks = check('CELERY_MAX_TASKS_PER_CHILD', integer(v('CELERY_MAX_TASKS_PER_CHILD', '1000'), 1, 2147483647));
      const prefetch = check('CELERY_PREFETCH', integer(v('CELERY_PREFETCH', '1'), 0, 65535));
      const q = given(env, 'CELERY_QUEUES') === undefined ? undefined : check('CELERY_QUEUES', queues(given(env, 'CELERY_QUEUES')!));
      argv = [
        'celery',
        '-A',
        app,
        'worker',
        `--loglevel=${level}`,
        `--concurrency=${concurrency}`,
        `--max-tasks-per-child=${maxTasks}`,
        `--prefetch-multiplier=${prefetch}`,
        '-O',
        'fair',
        ...(q ? ['-Q', q.join(',')] : []),
      ];
      // exec is refused for the worker, whatever else is wrong
      if (mode === 'exec') invalid.push('SUPERVISOR_MODE');
    } else {
      const schedule =
        given(env, 'CELERY_BEAT_SCHEDULE') === undefined
          ? undefined
          : check('CELERY_BEAT_SCHEDULE', path(given(env, 'CELERY_BEAT_SCHEDULE')!));
      argv = ['celery', '-A', app, 'beat', `--loglevel=${level}`, ...(schedule ? ['-s', schedule] : [])];
    }
  }
  if (invalid.length > 0) return { invalid };
  return { invalid, argv: argv as string[], mode };
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries.
const KNOWN = [
  'ROLE',
  'STOP_TIMEOUT',
  'DRAIN_DELAY',
  'ESCALATION_GRACE',
  'SUPERVISOR_LOG_LEVEL',
  'SUPERVISOR_MODE',
  'WORKERS',
  'WORKER_CLASS',
  'PORT',
  'WORKER_CONN',
  'LOGLEVEL',
  'WSGI_APP',
  'CELERY_APP',
  'CELERY_LOGLEVEL',
  'CELERY_CONCURRENCY',
  'CELERY_MAX_TASKS_PER_CHILD',
  'CELERY_PREFETCH',
  'CELERY_QUEUES',
  'CELERY_BEAT_SCHEDULE',
];

/** Hostile strings; SENTINEL stands for a file that only a shell interpreting a value would create. */
const nastyValues = (sentinel: string) => [
  '',
  ' ',
  '0',
  '00',
  '007',
  '0080',
  '+1',
  '-1',
  '-0',
  '1e3',
  '1E3',
  '0x1F',
  '0o7',
  '1_000',
  ' 8',
  '8 ',
  '8\n',
  '\t',
  '８',
  '١٢',
  'NaN',
  'Infinity',
  '1.',
  '.5',
  '0.5',
  '1.5',
  '1,5',
  '3600',
  '3600.0',
  '3600.0000000000000001',
  '3600.001',
  '3601',
  '65535',
  '65536',
  '1024',
  '1025',
  '2147483647',
  '2147483648',
  '99999999999999999999999',
  '9'.repeat(400),
  `0.${'0'.repeat(300)}1`,
  `$(touch ${sentinel})`,
  `\`touch ${sentinel}\``,
  `; touch ${sentinel}`,
  `| touch ${sentinel}`,
  `&& touch ${sentinel}`,
  `\ntouch ${sentinel}`,
  `' ; touch ${sentinel} '`,
  '"',
  '\\',
  '*',
  '~',
  '%s%n',
  '${PATH}',
  '-Q',
  '--help',
  '-',
  '--',
  'a b',
  'web',
  'WEB',
  'Web',
  'worker',
  'beat',
  'wEb ',
  'WOR\u212AER' /* Kelvin sign: lowercases to k */,
  'ſilent' /* long s */,
  'İnfo',
  'ınfo',
  'info',
  'INFO',
  'debug',
  'warning',
  'critical',
  'fatal',
  'silent',
  'trace',
  'exec',
  'EXEC',
  'supervise',
  'ExEc',
  'gevent',
  'sync',
  'uvicorn.workers.UvicornWorker',
  'a.b',
  'a..b',
  '.a',
  'a.',
  'scripts.run:app',
  'pkg.mod:create_app()',
  'pkg:app()()',
  'pkg.mod:a.b',
  'é.module',
  'a,b',
  'a,,b',
  ' a , b ',
  'a,-b',
  'q@x/y:z',
  ',',
  '/var/lib/beat/schedule',
  '-s',
  'rel/path with space',
  'é/ü',
  'a\u0007b',
  'a\u007fb',
  '\u2028',
  '\u00a0a\u00a0',
  '\ud83d\ude00',
  'x'.repeat(5000),
  'a.'.repeat(3000) + 'a',
];

function valueArb(sentinel: string, osSafe: boolean): fc.Arbitrary<string> {
  const arb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...nastyValues(sentinel)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: osSafe ? 'grapheme-ascii' : 'binary', maxLength: 20 }) },
    { weight: 2, arbitrary: fc.integer({ min: -5, max: 70000 }).map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
  );
  // The OS carries C strings: no NUL, and (as UTF-8) no lone surrogates.
  return osSafe ? arb.filter((s) => !s.includes('\0') && Buffer.from(s).toString() === s) : arb;
}

/** Values the contract accepts, so that a good share of environments are fully valid. */
function validArb(name: string): fc.Arbitrary<string> {
  const int = (min: number, max: number) => fc.integer({ min, max }).map(String);
  const secondsArb = fc.oneof(
    int(0, 3600),
    fc.tuple(fc.integer({ min: 0, max: 3599 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => `${a}.${b}`),
  );
  const byName: Record<string, fc.Arbitrary<string>> = {
    ROLE: fc.constantFrom('web', 'worker', 'beat', 'WEB', 'Beat', ''),
    STOP_TIMEOUT: secondsArb,
    DRAIN_DELAY: secondsArb,
    ESCALATION_GRACE: secondsArb,
    SUPERVISOR_LOG_LEVEL: fc.constantFrom('info', 'DEBUG', 'trace', 'warn', ''),
    SUPERVISOR_MODE: fc.constantFrom('supervise', 'Supervise', '', 'exec'),
    WORKERS: int(1, 1024),
    WORKER_CLASS: fc.constantFrom(...GUNICORN_CLASSES, 'uvicorn.workers.UvicornWorker'),
    PORT: int(1, 65535),
    WORKER_CONN: int(1, 100000),
    LOGLEVEL: fc.constantFrom(...GUNICORN_LEVELS, 'WARNING'),
    WSGI_APP: fc.constantFrom('scripts.run_eveai_app:app', 'app', 'pkg.mod:create_app()', 'a_b.c9:d.e'),
    CELERY_APP: fc.constantFrom('scripts.run_eveai_workers', 'app', 'pkg.mod:celery_app'),
    CELERY_LOGLEVEL: fc.constantFrom(...CELERY_LEVELS, 'info'),
    CELERY_CONCURRENCY: int(1, 1024),
    CELERY_MAX_TASKS_PER_CHILD: int(1, 2147483647),
    CELERY_PREFETCH: int(0, 65535),
    CELERY_QUEUES: fc
      .array(fc.constantFrom('default', 'q1', 'emails@x', 'a/b:c', 'a.b-c'), { minLength: 1, maxLength: 4 })
      .map((q) => q.join(' , ')),
    CELERY_BEAT_SCHEDULE: fc.constantFrom('/var/lib/beat/schedule', 'rel/path with space', 'é/ü', 'x;y|z&$(w)'),
  };
  return byName[name]!;
}

/** Names the supervisor does not own: typos of its own, and anything else shaped like an env name. */
const nearMissArb = fc
  .tuple(fc.constantFrom(...KNOWN), fc.nat(), fc.constantFrom('drop', 'double', 'lower', 'suffix'))
  .map(([name, i, how]) => {
    const at = i % name.length;
    if (how === 'drop') return name.slice(0, at) + name.slice(at + 1);
    if (how === 'double') return name.slice(0, at) + name[at] + name.slice(at);
    if (how === 'lower') return name.toLowerCase();
    return `${name}S`;
  });
// Names the real runs must not touch: they would change how Node, the harness or the fake program behave.
const RESERVED = /^(PATH|HOME|NODE_.*|LD_.*|UV_.*|FAKE_.*|HOSTILE_.*|EVEAI_.*|TZ|LANG|LC_.*|SUPERVISOR_.*)$/;
const unknownNameArb = fc
  .oneof(
    nearMissArb,
    fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,24}$/),
    fc.constantFrom('DATABASE_URL', 'REDIS_PASSWORD', 'API_TOKEN', 'SECRET_KEY'),
  )
  .filter((name) => !KNOWN.includes(name) && !RESERVED.test(name) && name !== '');

function envArb(sentinel: string, osSafe: boolean) {
  const known = Object.fromEntries(
    KNOWN.map((name) => [
      name,
      fc.option(fc.oneof({ weight: 6, arbitrary: validArb(name) }, { weight: 1, arbitrary: valueArb(sentinel, osSafe) }), {
        nil: undefined,
        freq: 3,
      }),
    ]),
  );
  // Unknown variables carry long unique values, so "the value never appears" cannot pass by accident.
  const unknown = fc.dictionary(
    unknownNameArb,
    fc.tuple(valueArb(sentinel, osSafe), fc.uuid()).map(([v, id]) => `${v}#${id}`),
    { maxKeys: 6 },
  );
  return fc.tuple(fc.record(known), unknown).map(([k, u]) => {
    const env: Record<string, string> = { ...u };
    for (const [name, value] of Object.entries(k)) if (value !== undefined) env[name] = value;
    return { env, unknown: u };
  });
}

// ---------------------------------------------------------------------------------------------------------
describe('loadPlan() over random environments (in-process)', () => {
  it("never throws; the plan is exactly the oracle's, or the exact set of invalid variables, each once", () => {
    fc.assert(
      fc.property(envArb('/nonexistent/sentinel', false), ({ env, unknown }) => {
        const expected = oracle(env);
        const result = loadPlan(env);
        if (expected.invalid.length === 0) {
          expect(result.ok, JSON.stringify(result)).toBe(true);
          if (!result.ok) return;
          expect(result.plan.argv).toEqual(expected.argv);
          expect(result.plan.settings.mode).toBe(expected.mode);
        } else {
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.problems.map((p) => p.variable).sort()).toEqual([...expected.invalid].sort());
          for (const problem of result.problems) {
            expect(typeof problem.expected).toBe('string');
            expect(problem.expected.length).toBeGreaterThan(0);
          }
        }
        // Nothing of a variable the supervisor does not own leaks into what it would log or print.
        const text = JSON.stringify(result);
        for (const value of Object.values(unknown)) expect(text).not.toContain(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('a one-off command passes through verbatim, whatever ROLE and the role variables say', () => {
    fc.assert(
      fc.property(envArb('/nonexistent/sentinel', false), fc.array(fc.string(), { minLength: 1, maxLength: 5 }), ({ env }, command) => {
        const expected = oracle(env, command);
        const result = loadPlan(env, command);
        expect(result.ok).toBe(expected.invalid.length === 0);
        if (result.ok) expect(result.plan.argv).toEqual(command);
        else expect(result.problems.map((p) => p.variable).sort()).toEqual([...expected.invalid].sort());
      }),
      { numRuns: 1000 },
    );
  });

  it('SUPERVISOR_MODE=exec for the worker is reported even when another common variable is invalid too', () => {
    const result = loadPlan({ ROLE: 'worker', SUPERVISOR_MODE: 'exec', STOP_TIMEOUT: 'soon' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.variable).sort()).toEqual(['STOP_TIMEOUT', 'SUPERVISOR_MODE']);
  });
});

describe('the real binary over random environments', () => {
  it('JSON lines only; 78 with one line per invalid variable and nothing started, or the exact argv and env; never a shell', async () => {
    const sentinelDir = tempDir('eveai-sentinel-');
    const sentinel = join(sentinelDir, 'pwned');
    let valid = 0;
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(envArb(sentinel, true), async ({ env }) => {
        using w = world({ FAKE_EXIT: '0' });
        using run = await startSupervisor([], { env: { ...w.env, SUPERVISOR_LOG_LEVEL: 'debug', ...env } });
        const exit = await exitOf(run, 20_000, 'exit', w.alive);
        const expected = oracle({ SUPERVISOR_LOG_LEVEL: 'debug', ...env });
        const logs = run.logs();
        expect(foreignLines(run.stderr()), run.stderr()).toEqual([]); // no stack trace, nothing but JSON lines
        // Every line is one write(2) below PIPE_BUF, so a pipe never splits it — except the lines that carry the
        // program's argv (child.spawn, supervisor.exec): a valid WSGI_APP/CELERY_APP/CELERY_QUEUES is unbounded.
        for (const line of run.stderr().split('\n').filter(Boolean)) {
          const { event } = JSON.parse(line) as { event: string };
          if (event !== 'child.spawn' && event !== 'supervisor.exec') expect(Buffer.byteLength(line), event).toBeLessThan(4096);
        }
        const level = (env.SUPERVISOR_LOG_LEVEL ?? 'debug').toLowerCase();
        const shown = (wanted: string) => LOG_LEVELS.indexOf(LOG_LEVELS.includes(level) ? level : 'info') >= LOG_LEVELS.indexOf(wanted);
        if (expected.invalid.length > 0) {
          invalid++;
          expect(exit.code).toBe(78);
          expect(readReport(w)).toBeUndefined(); // no program was started
          if (shown('error')) {
            const lines = events(logs, 'config.invalid').map((l) => l.variable as string);
            expect(lines.sort()).toEqual([...expected.invalid].sort());
          }
          if (shown('info')) expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 78 });
        } else {
          valid++;
          expect(exit.code, run.stderr()).toBe(0);
          const report = readReport(w)!;
          expect(report.argv).toEqual(expected.argv!.slice(1));
          for (const [name, value] of Object.entries(env)) expect(report.env[name], name).toBe(value);
          if (shown('info') && expected.mode === 'exec') expect(logs.at(-1)?.event).toBe('supervisor.exec');
          else if (shown('info')) expect(logs.at(-1)).toMatchObject({ event: 'supervisor.exit', code: 0 });
        }
        expect(w.alive()).toEqual([]);
      }),
      { numRuns: 40 },
    );
    console.log(`real binary: ${valid} valid and ${invalid} invalid environments`);
    expect(valid).toBeGreaterThan(0);
    expect(invalid).toBeGreaterThan(0);
    expect(existsSync(sentinel)).toBe(false);
    expect(readdirSync(sentinelDir)).toEqual([]);
  }, 180_000);

  it('the worst invalid values (tens of KB of control characters, quotes, emoji, Unicode line separators) still give lines below PIPE_BUF', async () => {
    // ~40 KB each (one string may not exceed 128 KiB, the whole environment 2 MiB: execve's limits)
    const worst = ['\u0001"\\'.repeat(12_000), '😀'.repeat(10_000), `a${'\u2028\u0085\u00ff'.repeat(6_000)}`];
    const env = Object.fromEntries(KNOWN.map((name, i) => [name, worst[i % worst.length]!]));
    for (const role of ['web', 'worker', 'beat']) {
      using w = world();
      using run = await startSupervisor(['--check'], { env: { ...w.env, ...env, ROLE: role, SUPERVISOR_LOG_LEVEL: 'debug' } });
      const exit = await within(run.exited, 20_000, 'exit');
      expect(exit.code).toBe(78);
      expect(events(run.logs(), 'config.invalid').length).toBeGreaterThanOrEqual(6);
      for (const line of run.stderr().split('\n').filter(Boolean)) expect(Buffer.byteLength(line)).toBeLessThan(4096);
    }
  }, 30_000);

  it("shell metacharacters in a one-off command's arguments and in a schedule path reach the program verbatim", async () => {
    const sentinelDir = tempDir('eveai-sentinel-');
    const sentinel = join(sentinelDir, 'pwned');
    const args = [`$(touch ${sentinel})`, `\`touch ${sentinel}\``, `; touch ${sentinel}`, `a b`, `*`, `'"\\`, `\ntouch ${sentinel}`];
    for (const [cli, env, expectedArgv] of [
      [['--', 'gunicorn', ...args], {}, args],
      [
        [],
        { ROLE: 'beat', CELERY_BEAT_SCHEDULE: `x;touch ${sentinel}|$(touch ${sentinel})` },
        ['-A', 'scripts.run_eveai_workers', 'beat', '--loglevel=INFO', '-s', `x;touch ${sentinel}|$(touch ${sentinel})`],
      ],
    ] as const) {
      using w = world({ FAKE_EXIT: '0', ...env });
      using run = await startSupervisor([...cli], { env: w.env });
      const exit = await within(run.exited, 20_000, 'exit');
      expect(exit.code).toBe(0);
      expect(readReport(w)?.argv).toEqual(expectedArgv);
    }
    expect(readdirSync(sentinelDir)).toEqual([]);
  }, 40_000);
});
