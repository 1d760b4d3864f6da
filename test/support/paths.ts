// Where things are and what every test's processes run with.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SUPERVISOR = join(ROOT, 'dist', 'supervisor.js');
export const FAKE_CHILD = join(ROOT, 'test', 'fixtures', 'fake-child.mjs');
export const NODE = process.execPath;
/** Node 24 first, then Debian's tools and python3 (never a pyenv python). */
export const TEST_PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
/**
 * PID 1 as the image starts it (Dockerfile.base's ENTRYPOINT, read by bench/image-entrypoint.mjs for the soak too), and
 * the same tini with the migration plan's `-g` (kept to show what it loses; README, "PID 1: tini-static, without -g").
 */
export const { IMAGE_ENTRYPOINT, TINI_GROUP_ENTRYPOINT } = (await import(join(ROOT, 'bench', 'image-entrypoint.mjs'))) as {
  IMAGE_ENTRYPOINT: readonly string[];
  TINI_GROUP_ENTRYPOINT: readonly string[];
};

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
