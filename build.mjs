// Bundles src/supervisor.ts and its dependencies into the single file the image copies: dist/supervisor.js.
// `node build.mjs` builds; bench/run.mjs imports from here so the benchmark measures exactly what ships.
//
// Start-up and memory choices (each measured in bench/RESULTS.md, "What each knob buys"):
// - CommonJS output. An ES module bundle makes Node build an ES-module facade for every builtin it imports, and
//   a facade reads every export of the builtin: `node:fs`'s alone loads fs/promises, readline and the REPL
//   history module. dist/package.json says "commonjs" so the bundle stays CommonJS inside this "type": "module"
//   package; on its own (the image copies just the file) a .js file is CommonJS anyway.
// - Minified: less to read, compile and keep resident (the source string stays in the heap).
// - The bundle is one function, `supervisorBody`, behind the few lines of src/boot.ts, which compile it with a V8 code
//   cache of the supervisor's own, taken after a whole supervised run: Node's compile cache holds only what V8 compiled
//   before the first line ran. `codeCache: false` builds it without (the bench's "… Node's compile cache only" row).
// - Two patches to pino stay, because pino offers no supported way to avoid what they avoid: src/log.ts already
//   gives pino its own synchronous destination (the documented `{ write }` object), yet pino's lib/tools.js and
//   lib/transport.js require sonic-boom, thread-stream and worker_threads at import, for pino.destination() and
//   transports the supervisor never calls. sonic-boom loads node:assert; thread-stream and tools.js load the
//   worker machinery. What each buys is measured in bench/RESULTS.md ("… but pino …" rows); in the run of
//   2026-12-04, against today's bundle (compile cache, 100 runs each), both undone cost 1.13× the start-up
//   and +1.1 MiB RSS (+0.03× of an idle Node, on a 1.15× target), lazy-modules alone 1.11×, tools.js alone 1.05×.
//   - lazy-modules: sonic-boom and thread-stream are evaluated on first construction instead of at import.
//   - pino-worker-threads-on-use: tools.js's `isMainThread` read moves into pino.destination(), where it is used.
//   Both were checked against pino's source of the version package.json pins exactly; the build fails (it does
//   not warn) when another pino is installed, when the patched text is not found, or when the lazy modules are
//   required from anywhere else. An upgrade of pino is then: re-read those files, adjust, bump the pin.
// - zod needs nothing here: src/ imports `zod/mini`, zod's tree-shakable entry, as a namespace, so esbuild keeps
//   only the functions src/ calls (≈20 KB of zod; its translations, z.locales, are never referenced and drop out).
//   zod/mini's object parser has no JIT (only the classic ZodObject compiles a parser with `new Function`), so
//   zod's `jitless` setting has nothing to switch off and is not set.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * Node flags the image's CMD passes before dist/supervisor.js: `node <flags> /app/dist/supervisor.js` (a static test
 * keeps Dockerfile.base equal to this list). Each one's effect on start-up and resident memory is in bench/RESULTS.md
 * and bench/RESULTS-probes.md.
 * - --max-semi-space-size=1 (MiB): V8 grows its young generation under a steady allocation rate and keeps it; every
 *   probe answered allocates, so a probed supervisor grew by tens of MiB. Capped, the growth is about half, at no
 *   measurable start-up, idle or per-probe CPU cost. It changes no code generation: Node's compile cache is kept.
 */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=1'];

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/**
 * The pino these patches were written against: package.json pins it exactly, and the build stops when another
 * version is bundled, so an upgrade means re-reading pino's source here rather than a silently different bundle.
 */
function checkPinnedPino(pinoDir) {
  const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies.pino;
  const bundled = JSON.parse(readFileSync(join(pinoDir, 'package.json'), 'utf8')).version;
  if (!/^\d+\.\d+\.\d+$/.test(pinned)) throw new Error(`build.mjs patches pino: package.json must pin its exact version, not "${pinned}"`);
  if (bundled !== pinned)
    throw new Error(`build.mjs patches pino ${pinned} but ${bundled} is installed: re-check the patches in build.mjs, then update the pin`);
}

/**
 * Requires of these modules become lazy: evaluated when first constructed, not when pino is imported. Each is
 * required by exactly this pino file and used there only inside functions; any other importer fails the build.
 */
const LAZY_MODULES = { 'sonic-boom': 'pino/lib/tools.js', 'thread-stream': 'pino/lib/transport.js' };

const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const seen = new Set();
    const filter = new RegExp(`^(${Object.keys(LAZY_MODULES).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.pluginData?.real) return undefined;
      const expected = LAZY_MODULES[args.path];
      if (args.kind !== 'require-call' || !args.importer.replaceAll('\\', '/').endsWith(`/node_modules/${expected}`)) {
        return {
          errors: [
            {
              text: `lazy-modules: ${args.path} is imported by ${args.importer} (${args.kind}), not only by ${expected}: re-check build.mjs`,
            },
          ],
        };
      }
      checkPinnedPino(join(dirname(args.importer), '..'));
      seen.add(args.path);
      return { path: args.path, namespace: 'lazy', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onResolve({ filter: /^lazy-real:/ }, async (args) => {
      const real = await b.resolve(args.path.slice('lazy-real:'.length), {
        kind: 'require-call',
        resolveDir: args.resolveDir,
        pluginData: { real: true },
      });
      return { path: real.path, errors: real.errors };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      loader: 'js',
      resolveDir: args.pluginData.resolveDir,
      // A constructor that loads the real class on first `new`; `instanceof` is false until then (no instance exists).
      contents: `let real;
const load = () => (real ??= require(${JSON.stringify(`lazy-real:${args.path}`)}));
function Lazy(...args) { return new (load())(...args); }
Object.defineProperty(Lazy, Symbol.hasInstance, { value: (x) => real !== undefined && x instanceof real });
module.exports = Lazy;`,
    }));
    b.onEnd((result) => {
      if (result.errors.length > 0) return undefined;
      const unused = Object.keys(LAZY_MODULES).filter((name) => !seen.has(name));
      return {
        errors: unused.map((name) => ({ text: `lazy-modules: ${LAZY_MODULES[name]} no longer requires ${name}: re-check build.mjs` })),
      };
    });
  },
};

/** Moves `const { isMainThread } = require('worker_threads')` in pino/lib/tools.js to where it is used. */
const pinoWorkerThreadsOnUse = {
  name: 'pino-worker-threads-on-use',
  setup(b) {
    let patched = false;
    b.onLoad({ filter: /[\\/]node_modules[\\/]pino[\\/]lib[\\/]tools\.js$/ }, (args) => {
      checkPinnedPino(join(dirname(args.path), '..'));
      const source = readFileSync(args.path, 'utf8');
      const eager = "const { isMainThread } = require('worker_threads')\n";
      const use = 'if (!opts.sync && isMainThread) {';
      if (!source.includes(eager) || !source.includes(use) || source.split('isMainThread').length !== 3) {
        return {
          errors: [
            { text: `pino-worker-threads-on-use: ${args.path} no longer reads isMainThread as this patch expects: re-check build.mjs` },
          ],
        };
      }
      patched = true;
      return {
        contents: source.replace(eager, '').replace(use, "if (!opts.sync && require('worker_threads').isMainThread) {"),
        loader: 'js',
      };
    });
    b.onEnd((result) =>
      result.errors.length > 0 || patched
        ? undefined
        : { errors: [{ text: 'pino-worker-threads-on-use: pino/lib/tools.js was not bundled: re-check build.mjs' }] },
    );
  },
};

/** The build's own plugins, by name; `buildBundle({ without: [name] })` drops one (bench/ measures each). */
export const PLUGINS = [lazyModules, pinoWorkerThreadsOnUse];

/**
 * Builds the bundle. The options exist for bench/run.mjs, which builds variants to show what each choice buys:
 * `format` ('cjs' | 'esm'), `minify`, `without` (plugin names), `startupGc` (false: no GC after spawn, see
 * src/cli/startup-gc.ts), `codeCache` (false: no code cache of its own, see src/boot.ts; an ES module bundle has none),
 * `define` (more compile-time constants: bench/probes.mjs undoes the probe endpoint's memory means, src/probes/memory.ts).
 */
export async function buildBundle({
  outfile = join(ROOT, 'dist', 'supervisor.js'),
  format = 'cjs',
  minify = true,
  without = [],
  startupGc = true,
  codeCache = format === 'cjs',
  define = {},
} = {}) {
  const banner = [
    '"use strict";',
    // An ES module bundle has no require() of its own; pino and the CommonJS dependencies call it.
    format === 'esm' ? "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);" : '',
  ].join('');
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node22',
    minify,
    legalComments: 'none',
    logLevel: 'warning',
  };
  const result = await build({
    ...common,
    entryPoints: ['src/supervisor.ts'],
    outfile,
    format,
    plugins: PLUGINS.filter((plugin) => !without.includes(plugin.name)),
    banner: { js: banner },
    define: { __SUPERVISOR_VERSION__: JSON.stringify(version), __SUPERVISOR_STARTUP_GC__: String(startupGc), ...define },
    write: !codeCache,
  });
  mkdirSync(dirname(outfile), { recursive: true });
  if (codeCache) writeFileSync(outfile, await withBoot(result.outputFiles[0].text, common));
  writeFileSync(join(dirname(outfile), 'package.json'), `{ "type": "${format === 'cjs' ? 'commonjs' : 'module'}" }\n`);
  return result;
}

/**
 * The bundle as src/boot.ts expects it: the body (what esbuild made of src/supervisor.ts) as one function from the
 * file's second line on, then the boot code that compiles and calls it, with a hash of the body's text.
 */
async function withBoot(bundle, common) {
  const body = `function supervisorBody(exports,require,module,__filename,__dirname){${bundle}\n}`;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const boot = await build({
    ...common,
    entryPoints: ['src/boot.ts'],
    format: 'cjs',
    write: false,
    define: { __SUPERVISOR_BODY_HASH__: JSON.stringify(hash) },
  });
  return `"use strict";\n${body}\n${boot.outputFiles[0].text}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBundle();
