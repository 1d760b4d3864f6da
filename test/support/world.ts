// A world of fake programs for one run of the supervisor: a directory with gunicorn, celery and fake-child on PATH
// (all test/fixtures/program.mjs: it reports the argv, env and stdio it was given, then behaves as fake-child.mjs,
// which records every signal it receives), and a marker every descendant carries in its environment, so that each
// of them is found wherever it moved (setsid, another group, a PID namespace seen from the host).
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { register, tempDir } from './cleanup.js';
import { ROOT, TEST_PATH } from './paths.js';
import { killProcessesWithMarker, processesWithMarker } from './proc.js';
import { waitFor } from './wait.js';

export const PROGRAM = join(ROOT, 'test', 'fixtures', 'program.mjs');

export interface World extends Disposable {
  dir: string;
  /** fake-child.mjs's record of signals and exits (FAKE_RECORD): readRecord/waitForRecord. */
  record: string;
  /** program.mjs's report of its argv, env and stdio (FAKE_REPORT): readReport. */
  reportFile: string;
  /** NAME=value carried by every descendant: processesWithMarker finds them all. */
  marker: string;
  /** For startSupervisor: PATH with the fakes first, the record and report files, the marker, and `extraEnv`. */
  env: Record<string, string>;
  /** Live (non-zombie) processes carrying the marker. */
  alive(): number[];
  /** SIGKILLs whatever still carries the marker; returns what it had to kill. Also what `using` does at the end. */
  cleanup(): number[];
}

/**
 * A new world, registered with the toolkit's clean-up: after the file its processes are killed again (any that
 * appeared after the test's own clean-up show in expectNothingLeftAfterAll) and its directory is removed.
 */
export function world(extraEnv: Record<string, string> = {}): World {
  const dir = tempDir('eveai-world-');
  chmodSync(dir, 0o777); // the non-root uid of the container topology writes its record here
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const name of ['gunicorn', 'celery', 'fake-child']) symlinkSync(PROGRAM, join(bin, name));
  const id = randomUUID();
  const marker = `EVEAI_TEST_MARKER=${id}`;
  const cleanup = () => killProcessesWithMarker(marker);
  const made: World = {
    dir,
    record: join(dir, 'record.jsonl'),
    reportFile: join(dir, 'report.json'),
    marker,
    env: {
      PATH: `${bin}:${TEST_PATH}`,
      FAKE_RECORD: join(dir, 'record.jsonl'),
      FAKE_REPORT: join(dir, 'report.json'),
      EVEAI_TEST_MARKER: id,
      ...extraEnv,
    },
    alive: () => processesWithMarker(marker),
    cleanup,
    [Symbol.dispose]: () => void cleanup(),
  };
  register({ cleanup });
  return made;
}

export interface RecordedEvent {
  pid: number;
  role: 'leader' | 'grandchild';
  event: 'ready' | 'signal' | 'exit';
  signal?: string;
  code?: number;
  t: number;
}

/** What fake-child.mjs recorded so far (leader and grandchildren), in order. */
export function readRecord(file: string): RecordedEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedEvent);
}

export function waitForRecord(file: string, predicate: (events: RecordedEvent[]) => boolean, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  return waitFor(
    () => `recorded events matching; recorded: ${JSON.stringify(readRecord(file))}`,
    () => {
      const events = readRecord(file);
      return predicate(events) && events;
    },
    timeoutMs,
  );
}

/** The leader has started (its first 'ready'): for waitForRecord. */
export const isReady = (events: RecordedEvent[]): boolean => events.some((e) => e.role === 'leader' && e.event === 'ready');

/** At least `count` processes (leader and grandchildren) are ready: for waitForRecord. */
export const readyCount =
  (count: number) =>
  (events: RecordedEvent[]): boolean =>
    events.filter((e) => e.event === 'ready').length >= count;

export interface ProgramReport {
  argv: string[];
  env: Record<string, string>;
  fds: Record<string, string | null>;
  nonblocking: Record<string, boolean | null>;
  uid: number;
}

/** What the program was started with (undefined: no program was started). */
export function readReport(w: World): ProgramReport | undefined {
  return existsSync(w.reportFile) ? (JSON.parse(readFileSync(w.reportFile, 'utf8')) as ProgramReport) : undefined;
}
