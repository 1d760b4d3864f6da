// Bundles src/supervisor.ts and its dependencies into the single file the image copies: dist/supervisor.js.
// `node build.mjs` builds; bench/run.mjs imports from here so the benchmark measures exactly what ships.
//
// Start-up and memory choices (each measured in bench/RESULTS.md, "What each knob buys"):
// - CommonJS output. An ES module bundle makes Node build an ES-module facade for every builtin it imports, and
//   a facade reads every export of the builtin: `node:fs`'s alone loads fs/promises, readline and the REPL
//   history module. dist/package.json says "commonjs" so the bundle stays CommonJS inside this "type": "module"
//   package; on its own (the image copies just the file) a .js file is CommonJS anyway.
// - Minified: less to read, compile and keep resident (the source string stays in the heap).
// - sonic-boom and thread-stream, which pino requires at import but uses only for pino.destination() and
//   transports, are evaluated on first use instead (src/log.ts gives pino its own synchronous destination).
// - pino's lib/tools.js reads worker_threads.isMainThread at import (+2 MB resident for the worker machinery) but
//   needs it only inside pino.destination(); the read is moved there.
// - zod needs nothing here: src/ imports `zod/mini`, zod's tree-shakable entry, as a namespace, so esbuild keeps
//   only the functions src/ calls (≈20 KB of zod; its translations, z.locales, are never referenced and drop out).
//   zod/mini's object parser has no JIT (only the classic ZodObject compiles a parser with `new Function`), so
//   zod's `jitless` setting has nothing to switch off and is not set.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * Node flags the image's CMD passes before dist/supervisor.js: `node <flags> /app/dist/supervisor.js`.
 * Each one's effect on start-up and resident memory is in bench/RESULTS.md.
 */
export const SUPERVISOR_NODE_FLAGS = [];

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Requires of these modules become lazy: evaluated when first constructed, not when pino is imported. */
const LAZY_MODULES = ['sonic-boom', 'thread-stream'];

const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_MODULES.join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.pluginData?.real ? undefined : { path: args.path, namespace: 'lazy', pluginData: { resolveDir: args.resolveDir } },
    );
    b.onResolve({ filter: /^lazy-real:/ }, async (args) => {
      const real = await b.resolve(args.path.slice('lazy-real:'.length), { kind: 'require-call', resolveDir: args.resolveDir, pluginData: { real: true } });
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
  },
};

/** Moves `const { isMainThread } = require('worker_threads')` in pino/lib/tools.js to where it is used. */
const pinoWorkerThreadsOnUse = {
  name: 'pino-worker-threads-on-use',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pino[\\/]lib[\\/]tools\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const { isMainThread } = require('worker_threads')\n";
      const use = 'if (!opts.sync && isMainThread) {';
      if (!source.includes(eager) || !source.includes(use) || source.split('isMainThread').length !== 3) {
        // A pino upgrade changed the file: still correct, only worker_threads loads at start-up again.
        return { contents: source, loader: 'js', warnings: [{ text: 'pino/lib/tools.js changed: worker_threads is loaded eagerly again (+2 MB RSS); update build.mjs' }] };
      }
      return {
        contents: source.replace(eager, '').replace(use, "if (!opts.sync && require('worker_threads').isMainThread) {"),
        loader: 'js',
      };
    });
  },
};

/** The build's own plugins, by name; `buildBundle({ without: [name] })` drops one (bench/ measures each). */
export const PLUGINS = [lazyModules, pinoWorkerThreadsOnUse];

/**
 * Builds the bundle. The options exist for bench/run.mjs, which builds variants to show what each choice buys:
 * `format` ('cjs' | 'esm'), `minify`, `without` (plugin names), `startupGc` (false: no GC after spawn, see
 * src/cli/startup-gc.ts).
 */
export async function buildBundle({ outfile = join(ROOT, 'dist', 'supervisor.js'), format = 'cjs', minify = true, without = [], startupGc = true } = {}) {
  const banner = [
    '"use strict";',
    // An ES module bundle has no require() of its own; pino and the CommonJS dependencies call it.
    format === 'esm' ? "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);" : '',
  ].join('');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/supervisor.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format,
    minify,
    plugins: PLUGINS.filter((plugin) => !without.includes(plugin.name)),
    banner: { js: banner },
    define: { __SUPERVISOR_VERSION__: JSON.stringify(version), __SUPERVISOR_STARTUP_GC__: String(startupGc) },
    legalComments: 'none',
    logLevel: 'warning',
  });
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(join(dirname(outfile), 'package.json'), `{ "type": "${format === 'cjs' ? 'commonjs' : 'module'}" }\n`);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBundle();
