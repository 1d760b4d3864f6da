// One revision's sources, unpacked beside the bench's other files so its own build.mjs can build them: the
// "before" rows of bench/run.mjs (--compare) and bench/probes.mjs (--before).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * REV's src/, build.mjs and package.json in `work`/at-SHA, with this checkout's node_modules linked in. Throws
 * when git or tar fails; returns the short sha and the directory.
 */
export function unpackRevision(root, rev, work) {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(work, `at-${sha}`);
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('git', ['archive', sha, 'src', 'build.mjs', 'package.json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  if (archive.status !== 0) throw new Error(String(archive.stderr));
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(String(untar.stderr));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { sha, dir };
}
