// Local stand-ins for the two registry images Dockerfile.base builds FROM, because this machine reaches no
// container registry (only Debian's archive and the npm registry):
//
//   python:3.12-slim           ->  localhost/eveai-standin-python   Debian trixie (minbase) with Debian's
//        python3 (3.13) and pip, and the runtime packages from apt: gunicorn 23.0.0, gevent 24.11.1, flask 3.1.1,
//        celery 5.5.2, redis-py 6.1.0 — the release lines requirements.txt pins (bookworm's celery 5.2 and
//        gunicorn 20.1 are what test/real's other row runs). pip cannot reach PyPI here, so the requirements must
//        already be installed for the image's `pip install -r` to succeed offline ("Requirement already
//        satisfied"). Debian's packages declare dependencies pip's resolver cannot satisfy offline although they
//        work together (gevent wants greenlet >= 3.1.1, trixie has 3.1.0; kombu wants the tzdata wheel; celery[redis]
//        wants redis < 6), so the stand-in sets PIP_NO_DEPS=1: pip checks that every named distribution is
//        installed, not their pins. Like the official image it has no EXTERNALLY-MANAGED marker (PEP 668) and
//        sets LANG=C.UTF-8. redis-server (8.0) is in it too: the e2e's redis container runs from this image.
//   node:24-bookworm-slim      ->  localhost/eveai-standin-node     Debian bookworm (minbase) with the Node 24
//        binary of the `node` devDependency (the one the tests run on) at /usr/local/bin/node and npm at
//        /usr/local/lib/node_modules/npm, the official image's layout. It trusts the CA certificates the host's
//        Node trusts (NODE_EXTRA_CA_CERTS, else the host's system bundle), so the build stage's `npm ci` reaches
//        the registry the way the host's npm does, also behind a TLS-inspecting proxy.
//
// Each root filesystem is made by debootstrap and kept as a tar in a cache directory under the system temp
// directory (keyed by its recipe, Debian suite included), so only the first run pays for
// debootstrap; every run imports the tars into its own podman storage, which its cleanup deletes.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireProgram, run, unmountBelow } from '../command.js';
import { debianMirror, debootstrap } from '../debootstrap.js';
import { ROOT, entriesOf } from '../paths.js';
import type { PodmanSandbox } from './podman.js';

const PYTHON_SUITE = 'trixie';
const NODE_SUITE = 'bookworm';
const RECIPE_VERSION = 1;
export const PYTHON_PACKAGES = [
  'ca-certificates',
  'python3',
  'python3-pip',
  'gunicorn',
  'python3-gevent',
  'python3-flask',
  'celery',
  'python3-celery',
  'python3-redis',
  'redis-server',
];
const NODE_PACKAGES = ['ca-certificates'];

export const CACHE_DIR = process.env.EVEAI_STANDIN_CACHE ?? join(tmpdir(), 'eveai-image-standins');

export interface Timings {
  [step: string]: number;
}

/** The Node binary of the `node` devDependency (the tests' Node). */
export function nodeBinary(): string {
  const path = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(path) || statSync(path).size < 10_000_000) {
    throw new Error(`${path} is not the Node binary of the \`node\` devDependency: run \`npm ci\` (its install script places it)`);
  }
  return path;
}

/** The directory of the npm package the host runs (pure JavaScript, copied into the Node stand-in). */
export function npmPackageDir(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    let current = dirname(realpathSync(candidate));
    while (current !== '/') {
      const pkg = join(current, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'npm') return current;
      current = dirname(current);
    }
  }
  throw new Error('npm not found on PATH: the Node stand-in copies the host npm package');
}

/**
 * The CA certificates the host's Node and npm trust beyond Node's built-in list: NODE_EXTRA_CA_CERTS when set,
 * else the host's system bundle (which is what npm's `cafile` points at on a machine behind a TLS-inspecting
 * proxy). Public certificates only.
 */
function extraCaFile(): string | undefined {
  for (const file of [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt']) {
    if (file && existsSync(file)) return file;
  }
  return undefined;
}

function hashOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

function fileDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface Recipe {
  name: 'python' | 'node';
  suite: string;
  packages: string[];
  key: string;
  /** Changes to the root filesystem after debootstrap. */
  finish(rootfs: string): void;
  /** `podman import --change` instructions. */
  changes: string[];
}

function recipes(): Recipe[] {
  const mirror = debianMirror();
  const node = nodeBinary();
  const npm = npmPackageDir();
  const npmVersion = (JSON.parse(readFileSync(join(npm, 'package.json'), 'utf8')) as { version: string }).version;
  const ca = extraCaFile();
  const path = 'PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';
  return [
    {
      name: 'python',
      suite: PYTHON_SUITE,
      packages: PYTHON_PACKAGES,
      key: hashOf([RECIPE_VERSION, PYTHON_SUITE, mirror, PYTHON_PACKAGES]),
      finish(rootfs) {
        for (const dir of entriesOf(join(rootfs, 'usr', 'lib')).filter((d) => /^python3\.\d+$/.test(d))) {
          rmSync(join(rootfs, 'usr', 'lib', dir, 'EXTERNALLY-MANAGED'), { force: true });
        }
      },
      changes: [`ENV ${path}`, 'ENV LANG=C.UTF-8', 'ENV PIP_NO_DEPS=1', 'CMD ["python3"]'],
    },
    {
      name: 'node',
      suite: NODE_SUITE,
      packages: NODE_PACKAGES,
      key: hashOf([
        RECIPE_VERSION,
        NODE_SUITE,
        mirror,
        NODE_PACKAGES,
        statSync(node).size,
        process.versions.node,
        npmVersion,
        ca && fileDigest(ca),
      ]),
      finish(rootfs) {
        const bin = join(rootfs, 'usr', 'local', 'bin');
        const lib = join(rootfs, 'usr', 'local', 'lib', 'node_modules');
        mkdirSync(bin, { recursive: true });
        mkdirSync(lib, { recursive: true });
        copyFileSync(node, join(bin, 'node'));
        cpSync(npm, join(lib, 'npm'), { recursive: true, verbatimSymlinks: true });
        symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(bin, 'npm'));
        symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(bin, 'npx'));
        if (ca) copyFileSync(ca, join(rootfs, 'etc', 'ssl', 'certs', 'host-node-extra-ca.pem'));
      },
      changes: [`ENV ${path}`, ...(ca ? ['ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-node-extra-ca.pem'] : []), 'CMD ["node"]'],
    },
  ];
}

/** The cached root filesystem tar of a recipe, made with debootstrap when missing. */
async function rootfsTar(recipe: Recipe, timings: Timings): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const tar = join(CACHE_DIR, `${recipe.name}-${recipe.key}.tar`);
  if (existsSync(tar)) return tar;
  const work = join(CACHE_DIR, `work-${recipe.name}-${process.pid}`);
  const rootfs = join(work, 'rootfs');
  const debs = join(CACHE_DIR, 'debs');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(debs, { recursive: true });
  try {
    const started = Date.now();
    await debootstrap({ suite: recipe.suite, packages: recipe.packages, target: rootfs, debs, timeoutMs: 900_000 });
    timings[`debootstrap ${recipe.name} stand-in, ${recipe.suite} (first run only)`] = Date.now() - started;
    rmSync(join(rootfs, 'var', 'lib', 'apt', 'lists'), { recursive: true, force: true });
    mkdirSync(join(rootfs, 'var', 'lib', 'apt', 'lists', 'partial'), { recursive: true });
    for (const cache of entriesOf(join(rootfs, 'var', 'cache', 'apt')).filter((f) => f.endsWith('.bin'))) {
      rmSync(join(rootfs, 'var', 'cache', 'apt', cache), { force: true });
    }
    recipe.finish(rootfs);
    const tarStarted = Date.now();
    await run([requireProgram('tar'), '--numeric-owner', '-C', rootfs, '-cf', `${tar}.partial`, '.'], { timeoutMs: 300_000 });
    renameSync(`${tar}.partial`, tar);
    timings[`tar ${recipe.name} stand-in (first run only)`] = Date.now() - tarStarted;
    return tar;
  } finally {
    await unmountBelow(work);
    rmSync(work, { recursive: true, force: true });
    rmSync(`${tar}.partial`, { force: true });
  }
}

export interface StandinImages {
  python: string;
  node: string;
}

/** Imports the stand-ins into the sandbox's storage (making their root filesystems first if not cached). */
export async function importStandins(sandbox: PodmanSandbox, timings: Timings): Promise<StandinImages> {
  const images: Partial<StandinImages> = {};
  for (const recipe of recipes()) {
    const tar = await rootfsTar(recipe, timings);
    const image = `localhost/eveai-standin-${recipe.name}:${recipe.key}`;
    const started = Date.now();
    await sandbox.podman(['import', ...recipe.changes.flatMap((c) => ['--change', c]), tar, image], { timeoutMs: 300_000 });
    timings[`podman import ${recipe.name} stand-in`] = Date.now() - started;
    images[recipe.name] = image;
  }
  return images as StandinImages;
}
