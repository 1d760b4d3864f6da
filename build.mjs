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
// - zod's parsers run without zod's JIT (globalThis.__zod_globalConfig.jitless, set before zod loads): the JIT
//   compiles each object schema with `new Function` on first parse, ~2 ms for the supervisor's one parse per run.
// - zod's translated error messages (z.locales, ~40 % of the bundle) are left out: the supervisor words its
//   own messages, and zod's default English locale stays.
// - `z` in src/ is an object with just the members src/ uses, so esbuild can leave out (and Node need not
//   evaluate) the zod schema classes nobody constructs: ~100 KB less to load and ~2 ms less start-up.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** zod's classic and core entries re-export every translation as `locales`; only `en` (zod's default) is kept. */
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      loader: 'js',
      resolveDir: join(ROOT, 'node_modules', 'zod', 'v4', 'locales'),
      contents: "export { default as en } from './en.js';",
    }));
  },
};

/**
 * `import { z } from 'zod'` in src/ resolves to `{ object, string, … }`: exactly the members src/ reads as `z.<name>`
 * (found by scanning src/ at every build), re-exported from zod itself. Any other use of `z` fails the build
 * rather than producing a bundle with a missing member.
 */
const zodMembersUsed = {
  name: 'zod-members-used',
  setup(b) {
    const srcDir = join(ROOT, 'src');
    b.onResolve({ filter: /^zod$/ }, (args) =>
      args.importer.startsWith(srcDir) && args.kind === 'import-statement' ? { path: 'zod', namespace: 'zod-members-used' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-members-used' }, async () => {
      const zod = await import('zod');
      const used = new Set();
      const problems = [];
      for (const file of sourceFiles(srcDir)) {
        const code = readFileSync(file, 'utf8').replace(/^import\b[^;]*;/gm, '').replace(/\/\/.*$/gm, '');
        if (!/from 'zod'/.test(readFileSync(file, 'utf8'))) continue;
        for (const m of code.matchAll(/\bz\b(\s*\.\s*([A-Za-z_$][\w$]*))?/g)) {
          if (m[2]) used.add(m[2]);
          else problems.push(`${file}: \`z\` used other than as z.<member>`);
        }
      }
      if (problems.length > 0) return { errors: problems.map((text) => ({ text })) };
      const members = [...used].filter((name) => name in zod.z).sort();
      return {
        loader: 'js',
        resolveDir: ROOT,
        contents: `import { ${members.join(', ')} } from 'zod';\nexport const z = { ${members.join(', ')} };\n`,
      };
    });
  },
};

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The build's own plugins, by name; `buildBundle({ without: [name] })` drops one (bench/ measures each). */
export const PLUGINS = [zodMembersUsed, lazyModules, pinoWorkerThreadsOnUse, zodWithoutLocales];

/**
 * Builds the bundle. The options exist for bench/run.mjs, which builds variants to show what each choice buys:
 * `format` ('cjs' | 'esm'), `minify`, `without` (plugin names), `zodJit` (true: zod compiles its parsers),
 * `startupGc` (false: no GC after spawn, see src/supervisor.ts).
 */
export async function buildBundle({ outfile = join(ROOT, 'dist', 'supervisor.js'), format = 'cjs', minify = true, without = [], zodJit = false, startupGc = true } = {}) {
  const banner = [
    '"use strict";',
    // Before any module: zod reads its global config when it loads and when each schema is built.
    zodJit ? '' : 'globalThis.__zod_globalConfig={jitless:true};',
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
