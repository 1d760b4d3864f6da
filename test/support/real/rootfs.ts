/**
 * Debian root filesystems for the real-process suite, made with debootstrap and cached as directories under
 * the system temp directory, keyed by their recipe (suite, mirror, packages): only the first run pays for
 * debootstrap (about 90 s on an idle machine, plus the download). Separate from the image stand-ins' cache
 * (test/support/image/standins.ts), which keeps tars for `podman import`.
 *
 * The directory is used read-only by the tests (enter-rootfs.sh mounts /dev, /proc, a tmpfs /tmp and
 * the checkout over it in a private mount namespace); it only ever gains the empty directories those mounts
 * need.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unmountBelow } from '../command.js';
import { debianMirror, debootstrap } from '../debootstrap.js';

export interface RootfsRecipe {
  suite: string;
  packages: readonly string[];
}

/** Bump when the way a root filesystem is made changes, so cached ones are rebuilt. */
const RECIPE_VERSION = 1;

/** Everything the real-process scenarios run inside the container topology, from Debian trixie. */
export const TRIXIE_RECIPE: RootfsRecipe = {
  suite: 'trixie',
  packages: [
    'tini',
    'procps',
    'util-linux', // PID 1, ps, unshare/setpriv
    'gunicorn',
    'python3-gevent',
    'python3-flask', // web role
    'celery',
    'python3-celery',
    'python3-redis',
    'redis-server', // worker and beat roles
  ],
};

export const ROOTFS_CACHE = process.env.EVEAI_ROOTFS_CACHE ?? path.join(os.tmpdir(), 'eveai-real-rootfs');

function keyOf(recipe: RootfsRecipe, mirror: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([RECIPE_VERSION, recipe.suite, mirror, recipe.packages]))
    .digest('hex');
  return `${recipe.suite}-${digest.slice(0, 12)}`;
}

/** Milliseconds the last ensureRootfs() spent building (0 when the cache had it): reported by the tests. */
export const buildTimes = new Map<string, number>();

/** The root filesystem of `recipe`: from the cache, or made with debootstrap now. */
export async function ensureRootfs(recipe: RootfsRecipe): Promise<string> {
  const mirror = debianMirror();
  const key = keyOf(recipe, mirror);
  const final = path.join(ROOTFS_CACHE, key);
  if (fs.existsSync(path.join(final, 'usr/bin/tini'))) {
    buildTimes.set(recipe.suite, 0);
    return final;
  }
  fs.mkdirSync(ROOTFS_CACHE, { recursive: true });
  const work = path.join(ROOTFS_CACHE, `work-${key}-${process.pid}`);
  const debs = path.join(ROOTFS_CACHE, 'debs');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(debs, { recursive: true });
  const started = Date.now();
  try {
    await debootstrap({ suite: recipe.suite, packages: recipe.packages, target: work, debs, mirror, timeoutMs: 1_200_000 });
    // Package lists and apt caches are not needed to run anything; they are most of the size.
    fs.rmSync(path.join(work, 'var/lib/apt/lists'), { recursive: true, force: true });
    fs.rmSync(path.join(work, 'var/cache/apt'), { recursive: true, force: true });
    try {
      fs.renameSync(work, final);
    } catch (error) {
      // A parallel run (another checkout on this machine) finished first: use its copy.
      if (!fs.existsSync(path.join(final, 'usr/bin/tini'))) throw error;
    }
    buildTimes.set(recipe.suite, Date.now() - started);
    return final;
  } finally {
    await unmountBelow(work);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
