// Every supervisor log line any test sees is kept, and checked once after the whole run (test/log-lines.setup.ts)
// against docs/log-events.schema.json: each key unique on the raw text, each event known, each field as documented.
// The places that capture a supervisor's stderr call collectSupervisorLines(); nothing else needs to change
// when a test is added.
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { ROOT } from './paths.js';

export const SCHEMA_FILE = join(ROOT, 'docs', 'log-events.schema.json');
/**
 * Where the lines go: one directory per vitest run, chosen by the global setup (test/log-lines.setup.ts) and
 * passed to the test processes in SUPERVISOR_LOG_LINES_DIR, so two runs in one checkout never mix their lines.
 * A test file run without the global setup writes to a directory nobody checks.
 */
export function collectionDir(): string {
  return process.env.SUPERVISOR_LOG_LINES_DIR ?? join(ROOT, '.tmp', 'supervisor-log-lines', 'unchecked');
}

const MARK = '"name":"eveai-supervisor"';

/**
 * The supervisor's JSON lines in a captured stream (which also carries the program's own output). Each is one
 * write(2) ending in a newline, but a program's unterminated text can precede it on the same line (celery 5.2 prints
 * "\nworker: Cold shutdown (MainProcess)" and its newline in two writes): the line is taken from its last `{"level":`.
 */
export function supervisorLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.slice(Math.max(0, line.lastIndexOf('{"level":'))))
    .filter((line) => line.startsWith('{') && line.includes(MARK));
}

/** The supervisor's lines of a captured stream, parsed; a line that is not JSON is left to the end-of-run check. */
export function parseSupervisorLines<T>(text: string): T[] {
  return supervisorLines(text).flatMap((line) => {
    try {
      return [JSON.parse(line) as T];
    } catch {
      return [];
    }
  });
}

/** Records the supervisor lines of one captured stream for the end-of-run check; `source` says where they came from. */
export function collectSupervisorLines(text: string, source = currentTest()): void {
  const lines = supervisorLines(text);
  if (lines.length === 0) return;
  mkdirSync(collectionDir(), { recursive: true });
  // One file per test process: appends from one process never interleave with another's.
  appendFileSync(join(collectionDir(), `${process.pid}.jsonl`), lines.map((line) => `${JSON.stringify({ source, line })}\n`).join(''));
}

function currentTest(): string {
  // The test file and test being run; outside a test (a hook, a script) the pid is all there is.
  try {
    const { testPath, currentTestName } = expect.getState();
    const file = testPath ? relative(ROOT, testPath) : `pid ${process.pid}`;
    return currentTestName ? `${file} > ${currentTestName}` : file;
  } catch {
    return `pid ${process.pid}`;
  }
}

export interface CollectedLine {
  source: string;
  line: string;
}

export function readCollectedLines(dir = collectionDir()): CollectedLine[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.jsonl'));
  } catch {
    return [];
  }
  return files.flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((entry) => JSON.parse(entry) as CollectedLine),
  );
}

/**
 * Keys that occur twice in one object of a valid JSON text, as paths (`.pid`, `.phases[0].ms`). JSON.parse keeps
 * the last of them silently, so this reads the raw text.
 */
export function duplicateKeys(json: string): string[] {
  const found: string[] = [];
  let i = 0;
  const space = () => {
    while (i < json.length && ' \t\r\n'.includes(json[i]!)) i++;
  };
  const string = (): string => {
    const start = i++;
    while (i < json.length && json[i] !== '"') i += json[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(json.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    space();
    if (json[i] === '{') {
      i++;
      const keys = new Set<string>();
      space();
      if (json[i] === '}') return void i++;
      for (;;) {
        space();
        const key = string();
        if (keys.has(key)) found.push(`${path}.${key}`);
        keys.add(key);
        space();
        i++; // ':'
        value(`${path}.${key}`);
        space();
        if (json[i++] === '}') return;
      }
    }
    if (json[i] === '[') {
      i++;
      space();
      if (json[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        space();
        if (json[i++] === ']') return;
      }
    }
    if (json[i] === '"') return void string();
    while (i < json.length && !',}] \t\r\n'.includes(json[i]!)) i++;
  };
  value('');
  return found;
}

interface EventEntry {
  title: string;
  properties: { event: { const: string }; level: { const: string }; [field: string]: unknown };
  required?: string[];
}

export interface LogSchema {
  /** Every documented event: its level and its own fields (beyond the common ones). */
  events: Map<string, { level: string; fields: string[]; required: string[] }>;
  /** The problems of one raw line, each naming what is wrong; empty when the line is valid. */
  check(line: string): string[];
}

export function loadLogSchema(file = SCHEMA_FILE): LogSchema {
  const schema = JSON.parse(readFileSync(file, 'utf8')) as { oneOf: EventEntry[] };
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema(schema, 'log');
  // The whole schema, as a pipeline would use it, and one validator per event for messages that name the field.
  const whole = ajv.getSchema('log')!;
  const byEvent = new Map<string, ValidateFunction>();
  const events = new Map<string, { level: string; fields: string[]; required: string[] }>();
  schema.oneOf.forEach((entry, index) => {
    const name = entry.properties.event.const;
    byEvent.set(name, ajv.compile({ allOf: [{ $ref: 'log#/$defs/line' }, { $ref: `log#/oneOf/${index}` }], unevaluatedProperties: false }));
    const fields = Object.keys(entry.properties).filter((field) => field !== 'event' && field !== 'level');
    events.set(name, { level: entry.properties.level.const, fields, required: entry.required ?? [] });
  });
  return {
    events,
    check(line) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        return [`not JSON (${(error as Error).message})`];
      }
      const problems = duplicateKeys(line).map((path) => `duplicate key ${path}`);
      const event = (parsed as { event?: unknown }).event;
      const validate = typeof event === 'string' ? byEvent.get(event) : undefined;
      if (!validate) {
        problems.push(
          `unknown event ${JSON.stringify(event)}: add it to ${relative(ROOT, file)} (one entry in oneOf) and to the README's Log table`,
        );
        return problems;
      }
      if (!validate(parsed)) {
        for (const e of validate.errors ?? []) {
          const where = e.instancePath || '(line)';
          const extra =
            e.keyword === 'unevaluatedProperties'
              ? ` ${JSON.stringify((e.params as { unevaluatedProperty: string }).unevaluatedProperty)}`
              : '';
          problems.push(`${event}: ${where} ${e.message}${extra}`);
        }
      } else if (!whole(parsed)) {
        problems.push(`${event}: valid for its own entry but not for the whole schema: ${ajv.errorsText(whole.errors)}`);
      }
      return problems;
    },
  };
}

export interface CheckReport {
  lines: number;
  sources: number;
  events: Map<string, number>;
  /** One message per invalid line: the problems, where the line came from and the line itself (shortened). */
  failures: string[];
}

/** Checks every collected line; a line seen many times (the same run parsed twice) is checked once. */
export function checkCollectedLines(collected: CollectedLine[], schema = loadLogSchema()): CheckReport {
  const events = new Map<string, number>();
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const { source, line } of collected) {
    if (seen.has(line)) continue;
    seen.add(line);
    const problems = schema.check(line);
    const event = /"event":"([^"]*)"/.exec(line)?.[1] ?? '?';
    events.set(event, (events.get(event) ?? 0) + 1);
    if (problems.length > 0)
      failures.push(`${problems.join('; ')}\n    from ${source}\n    ${line.length > 400 ? `${line.slice(0, 400)}…` : line}`);
  }
  return { lines: seen.size, sources: new Set(collected.map((c) => basename(c.source.split(' > ')[0]!))).size, events, failures };
}
