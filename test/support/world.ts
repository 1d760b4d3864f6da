// Puts the fake child on PATH under the names the roles run (gunicorn, celery), so a role's real argv
// and signal policy can be exercised with a child that records exactly what it receives.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FAKE_CHILD, TEST_PATH, killProcessesWithMarker, tempDir } from './supervisor.js';

export interface FakeWorld {
  dir: string;
  record: string;
  /** env for runSupervisor: PATH with the fakes first, a record file, and a marker to find every descendant. */
  env: Record<string, string>;
  /** SIGKILL anything still alive that carries this world's marker and remove the directory; returns what it had to kill. */
  cleanup(): number[];
}

export function fakeWorld(extraEnv: Record<string, string> = {}): FakeWorld {
  const dir = tempDir('eveai-fake-');
  chmodSync(dir, 0o777); // the non-root uid of the container topology writes its record here
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  chmodSync(FAKE_CHILD, 0o755);
  for (const name of ['gunicorn', 'celery', 'fake-child']) symlinkSync(FAKE_CHILD, join(bin, name));
  const marker = `EVEAI_TEST_MARKER=${randomUUID()}`;
  const [markerName, markerValue] = marker.split('=') as [string, string];
  const record = join(dir, 'record.jsonl');
  return {
    dir,
    record,
    env: { PATH: `${bin}:${TEST_PATH}`, FAKE_RECORD: record, [markerName]: markerValue, ...extraEnv },
    cleanup() {
      const left = killProcessesWithMarker(marker);
      rmSync(dir, { recursive: true, force: true });
      return left;
    },
  };
}

export function markerOf(world: FakeWorld): string {
  return `EVEAI_TEST_MARKER=${world.env.EVEAI_TEST_MARKER}`;
}
