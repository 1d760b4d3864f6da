// What V8 itself reports about the built supervisor: its --trace-* lines on stdout, switched on by a preload that
// traces only the supervisor (NODE_OPTIONS reaches a Node-based fake child too), and the readers of those lines.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the preload into `dir` and returns the NODE_OPTIONS that load it; `flags`: V8's, e.g. '--trace-gc'. */
export function traceSupervisorV8(dir: string, flags: string): string {
  const preload = join(dir, 'trace-v8.cjs');
  writeFileSync(preload, `if (/supervisor\\.js$/.test(process.argv[1] ?? '')) require('node:v8').setFlagsFromString('${flags}');\n`);
  return `--require ${preload}`;
}

/** Full collections asked for through gc() (V8's reason "testing"): the supervisor's own, never V8's heuristics. */
export const forcedFullCollections = (trace: string): string[] => trace.match(/Mark-Compact .* testing/g) ?? [];

/** Whether one of those is memory-reducing: one gc() call of the "last-resort" flavor runs one to seven of them. */
export const isMemoryReducing = (collection: string): boolean => collection.startsWith('Mark-Compact (reduce)');
