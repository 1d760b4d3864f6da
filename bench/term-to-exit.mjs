// TERM -> exit for a program that exits at once on TERM (a python3 handler), directly and under the supervisor,
// interleaved in one run. `node bench/term-to-exit.mjs [runs]` after `npm run build` (Debian python3 on PATH).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUPERVISOR = fileURLToPath(new URL('../dist/supervisor.js', import.meta.url));
const PROGRAM = ['/usr/bin/python3', '-c', 'import signal,sys,time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nprint("ready", flush=True)\ntime.sleep(60)'];
const RUNS = Number(process.argv[2] ?? 30);

async function once(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
  await new Promise((ready) => child.stdout.once('data', ready));
  const sentAt = performance.now();
  child.kill('SIGTERM');
  await new Promise((exited) => child.on('exit', exited));
  return performance.now() - sentAt;
}

const rows = { direct: [], supervisor: [] };
for (let i = 0; i < RUNS; i++) {
  rows.direct.push(await once(PROGRAM));
  rows.supervisor.push(await once([process.execPath, SUPERVISOR, '--', ...PROGRAM]));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [name, xs] of Object.entries(rows)) console.log(`${name.padEnd(10)} TERM -> exit median ${median(xs).toFixed(1)} ms over ${RUNS} runs`);
console.log(`supervisor / direct: ${(median(rows.supervisor) / median(rows.direct)).toFixed(2)}x`);
