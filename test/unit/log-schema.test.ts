// docs/log-events.schema.json, the check every supervisor line of the suite goes through (test/log-lines.setup.ts),
// and the README's Log table: one set of events, levels and fields.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCollectedLines, duplicateKeys, loadLogSchema } from '../support/log-lines.js';
import { ROOT } from '../support/paths.js';
import { prettyLine } from '../../src/log-pretty.js';
import { createLogger } from '../../src/log.js';
import { StopTimeline, logStopSummary } from '../../src/supervise/stop-summary.js';

const schema = loadLogSchema();
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'info',
    time: '2026-12-04T05:00:00.000Z',
    pid: 2,
    hostname: 'web-1',
    name: 'eveai-supervisor',
    ...fields,
    msg: 'm',
  });

describe('the log line check', () => {
  it('accepts a documented event with its fields', () => {
    expect(schema.check(line({ event: 'child.spawn', child_pid: 7, argv: ['gunicorn'] }))).toEqual([]);
    expect(schema.check(line({ event: 'child.exit', child_pid: 7, code: null, signal: 'SIGKILL', runtime_ms: 5 }))).toEqual([]);
  });

  it('a key twice in one line fails, even though JSON.parse keeps only the last', () => {
    const twice = line({ event: 'child.spawn', child_pid: 7, argv: ['gunicorn'] }).replace('"child_pid":7', '"pid":7');
    expect(JSON.parse(twice).pid).toBe(7); // the supervisor's own pid (2) is silently lost
    expect(schema.check(twice)).toContain('duplicate key .pid');
    expect(duplicateKeys('{"a":{"b":1,"c":"}\\",\\"b","b":2},"d":[{"e":1,"e":2}],"a":0}')).toEqual(['.a.b', '.d[0].e', '.a']);
  });

  it('an unknown event fails with its name and where to add it', () => {
    expect(schema.check(line({ event: 'probe.ready' }))).toEqual([
      'unknown event "probe.ready": add it to docs/log-events.schema.json (one entry in oneOf) and to the README\'s Log table',
    ]);
  });

  it('a field the event does not have, a camelCase name, a wrong level or type, a missing field: each named', () => {
    expect(schema.check(line({ event: 'child.spawn', child_pid: 7, argv: ['g'], extra: 1 }))).toEqual([
      'child.spawn: (line) must NOT have unevaluated properties "extra"',
    ]);
    expect(schema.check(line({ event: 'supervisor.exit', code: 0, stopTimeoutMs: 1 })).join()).toMatch(/stopTimeoutMs/);
    expect(
      schema
        .check(line({ event: 'shutdown.escalate', level: 'info', signal: 'SIGKILL', target: 'group', child_pid: 7, after_ms: 1 }))
        .join(),
    ).toMatch(/\/level must be equal to constant/);
    expect(schema.check(line({ event: 'supervisor.exit', code: '0' })).join()).toMatch(/\/code must be integer/);
    expect(schema.check(line({ event: 'child.spawn', argv: ['g'] })).join()).toMatch(/must have required property 'child_pid'/);
    expect(schema.check('{"name":"eveai-supervisor",')[0]).toMatch(/^not JSON/);
  });

  it('reports each invalid line once, with the test it came from', () => {
    const bad = line({ event: 'no.such' });
    const report = checkCollectedLines(
      [
        { source: 'a.test.ts > x', line: bad },
        { source: 'a.test.ts > x', line: bad },
        { source: 'b.test.ts', line: line({ event: 'group.empty' }) },
      ],
      schema,
    );
    expect(report.lines).toBe(2);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toContain('unknown event "no.such"');
    expect(report.failures[0]).toContain('from a.test.ts > x');
  });

  it('fails the whole vitest run when one collected line is invalid, and passes it when all are valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eveai-log-check-'));
    const nested = (logLine: string) =>
      spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          '--config',
          join(ROOT, 'test', 'fixtures', 'log-check', 'vitest.config.ts'),
        ],
        {
          cwd: ROOT,
          env: { ...process.env, SUPERVISOR_LOG_LINES_DIR: dir, LOG_CHECK_LINE: logLine, NO_COLOR: '1' },
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    try {
      const bad = nested(line({ event: 'probe.ready' }));
      expect(bad.status, bad.stdout + bad.stderr).toBe(1);
      expect(bad.stderr).toContain('1 invalid');
      expect(bad.stderr).toContain('unknown event "probe.ready"');
      expect(bad.stderr).toContain('test/fixtures/log-check/records.check.ts > records one supervisor line');
      const good = nested(line({ event: 'group.empty' }));
      expect(good.status, good.stdout + good.stderr).toBe(0);
      expect(good.stderr).toContain('1 distinct lines from 1 test files');
      expect(existsSync(dir), 'the collection is removed after a run whose lines are all valid').toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('one set of events: code, schema, README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const logSection = readme.slice(readme.indexOf('\n## Log\n'), readme.indexOf('\n## ', readme.indexOf('\n## Log\n') + 1));
  const rows = [...logSection.matchAll(/^\| `([a-z0-9_.]+)` \| (\w+) \|([^|]*)\|/gm)].map((m) => ({
    event: m[1]!,
    level: m[2]!,
    fields: m[3]!
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
  }));
  const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(join(ROOT, 'src', file), 'utf8'));

  it('every event the code logs is in the schema', () => {
    const logged = new Set(sources.flatMap((source) => [...source.matchAll(/event: '([a-z0-9_]+\.[a-z0-9_]+)'/g)].map((m) => m[1]!)));
    expect(logged.size).toBeGreaterThan(20);
    expect([...logged].filter((event) => !schema.events.has(event))).toEqual([]);
  });

  it("the README Log table lists exactly the schema's events, each with its level and fields", () => {
    expect(rows.map((r) => r.event).sort()).toEqual([...schema.events.keys()].sort());
    for (const row of rows) {
      const documented = schema.events.get(row.event)!;
      expect({ event: row.event, level: row.level, fields: row.fields }).toEqual({
        event: row.event,
        level: documented.level,
        fields: documented.fields,
      });
    }
  });
});

describe('pretty lines', () => {
  const json = line({ event: 'child.spawn', child_pid: 7, argv: ['gunicorn', '-w', '1'] }).replace('"msg":"m"', '"msg":"started gunicorn"');

  it("time, level, pid, event and message first, then the event's own fields; one line", () => {
    expect(prettyLine(`${json}\n`, false)).toBe(
      '05:00:00.000 INFO  supervisor[2] child.spawn        started gunicorn  child_pid=7 argv=["gunicorn","-w","1"]\n',
    );
  });

  it('colours only when asked, and a value never drives the terminal', () => {
    expect(prettyLine(json, true)).toContain('\x1b[32mINFO \x1b[0m');
    const hostile = prettyLine(
      line({ event: 'config.invalid', variable: 'PORT', value: '\x1b]0;pwned\x07\x9b2J', expected: 'e' }).replace(
        '"msg":"m"',
        '"msg":"PORT=\\u001b[2J"',
      ),
      false,
    );
    expect(hostile).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(hostile).toContain('PORT=\\u001b[2J');
    expect(hostile.split('\n')).toHaveLength(2);
  });

  it('a line that is not JSON passes unchanged', () => {
    expect(prettyLine('not json\n', true)).toBe('not json\n');
  });
});

describe('shutdown.summary as the supervisor writes it', () => {
  const written = (fill: (timeline: StopTimeline) => void, outcome: Parameters<typeof logStopSummary>[2]) => {
    const lines: string[] = [];
    const timeline = new StopTimeline();
    fill(timeline);
    logStopSummary(createLogger('info', 'json', { write: (l: string) => lines.push(l) }), timeline, outcome);
    expect(lines).toHaveLength(1);
    expect(schema.check(lines[0]!.trimEnd())).toEqual([]);
    return JSON.parse(lines[0]!) as Record<string, unknown>;
  };

  it('a stop before the program started: the signal, no phases, 128+N', () => {
    // What src/supervisor.ts writes after shutdown.before_start (a signal the event loop handles before the
    // synchronous start-up reaches the spawn: too rare to hit from outside, so shown here).
    const summary = written((t) => (t.requestedBy = 'SIGTERM'), {
      programCode: null,
      programSignal: null,
      survivors: 0,
      escapees: 0,
      exitCode: 143,
    });
    expect(summary).toMatchObject({ cause: 'stop_signal', stop_signal: 'SIGTERM', phases: [], escalated: [], total_ms: 0, exit_code: 143 });
    expect(summary.msg).toBe('stop requested by SIGTERM; exit code 143');
  });

  it('a drained web stop with survivors and escapees says so in its message', () => {
    const summary = written(
      (t) => {
        t.requestedBy = 'SIGTERM';
        t.enter('drain', null, null, 3);
        t.enter('graceful', 'SIGTERM', 'leader', null);
        t.enter('hard', 'SIGQUIT', 'group', 3);
        t.enter('kill', 'SIGKILL', 'group', 1);
      },
      { programCode: null, programSignal: 'SIGKILL', survivors: 1, escapees: 2, exitCode: 137 },
    );
    expect((summary.phases as { phase: string }[]).map((p) => p.phase)).toEqual(['drain', 'graceful', 'hard', 'kill']);
    expect(summary.escalated).toEqual(['hard', 'kill']);
    expect(summary.msg).toMatch(
      /^stop requested by SIGTERM, took \d\.\d\d s: drain \d\.\d\d s \(3 processes\), graceful \d\.\d\d s \(SIGTERM to the leader\), hard \d\.\d\d s \(SIGQUIT to the group, 3 processes\), kill \d\.\d\d s \(SIGKILL to the group, 1 process\); 1 survived SIGKILL, 2 escaped the group; exit code 137$/,
    );
  });
});
