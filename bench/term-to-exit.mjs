// TERM -> exit for a program that exits at once on TERM (a python3 handler), directly and under the supervisor,
// interleaved in one run. `node bench/term-to-exit.mjs [runs] [other-bundle.js]` after `npm run build` (Debian
// python3 on PATH). With another bundle, a third row runs it the same way, so a change's effect on the stop path
// is a ratio within one run; to build one from commit REV into DIR:
//   git archive REV src build.mjs package.json | tar -x -C DIR && ln -s "$PWD/node_modules" DIR/ && node DIR/build.mjs
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUPERVISOR = fileURLToPath(new URL('../dist/supervisor.js', import.meta.url));
const PROGRAM = [
  '/usr/bin/python3',
  '-c',
  'import signal,sys,time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nprint("ready", flush=True)\ntime.sleep(60)',
];
const RUNS = Number(process.argv[2] ?? 30);
const OTHER = process.argv[3];

async function once(argv) {
  // stderr is a pipe, as a container runtime gives it (the supervisor's lines are read and dropped).
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
  child.stderr.resume();
  await new Promise((ready) => child.stdout.once('data', ready));
  const sentAt = performance.now();
  child.kill('SIGTERM');
  await new Promise((exited) => child.on('exit', exited));
  return performance.now() - sentAt;
}

const rows = { direct: [], supervisor: [], ...(OTHER ? { other: [] } : {}) };
for (let i = 0; i < RUNS; i++) {
  rows.direct.push(await once(PROGRAM));
  rows.supervisor.push(await once([process.execPath, SUPERVISOR, '--', ...PROGRAM]));
  if (OTHER) rows.other.push(await once([process.execPath, OTHER, '--', ...PROGRAM]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [name, xs] of Object.entries(rows))
  console.log(`${name.padEnd(10)} TERM -> exit median ${median(xs).toFixed(1)} ms over ${RUNS} runs`);
console.log(`supervisor / direct: ${(median(rows.supervisor) / median(rows.direct)).toFixed(2)}x`);
if (OTHER) console.log(`supervisor / other (${OTHER}): ${(median(rows.supervisor) / median(rows.other)).toFixed(2)}x`);
