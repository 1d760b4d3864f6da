// Bundles src/supervisor.ts and its dependencies into the single file the image copies: dist/supervisor.js.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/supervisor.ts'],
  outfile: 'dist/supervisor.js',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // pino and a few CommonJS dependencies call require(); an ESM bundle needs one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  define: { __SUPERVISOR_VERSION__: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
