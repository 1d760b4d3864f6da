// Where things are and what every test's processes run with.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
export const FAKE_CHILD = join(ROOT, 'test', 'fixtures', 'fake-child.mjs');
export const NODE = process.execPath;
/** Node 24 first, then Debian's tools and python3 (never a pyenv python). */
export const TEST_PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** The names in `dir`; none when it does not exist (or cannot be read). */
export function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Throws what to do when the bundle the tests run is missing. */
export function requireBuild(): string {
  if (!existsSync(SUPERVISOR)) throw new Error(`${SUPERVISOR} is missing: run \`npm run build\` first (npm test does)`);
  return SUPERVISOR;
}
