// vitest global setup: gives the run its own directory for supervisor log lines and, after every test file has
// run, checks each collected line against docs/log-events.schema.json (test/support/log-lines.ts). A line that
// fails makes the whole run fail, naming the line, the problem and the test that produced it.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkCollectedLines, readCollectedLines } from './support/log-lines.js';
import { ROOT } from './support/paths.js';

export default function setup(): () => void {
  // Set before any test process starts, so every one of them inherits it.
  const dir = (process.env.SUPERVISOR_LOG_LINES_DIR ??= join(ROOT, '.tmp', 'supervisor-log-lines', `run-${process.pid}`));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return () => {
    const report = checkCollectedLines(readCollectedLines(dir));
    const summary = `supervisor log lines: ${report.lines} distinct lines from ${report.sources} test files checked against docs/log-events.schema.json`;
    if (report.failures.length === 0) {
      process.stderr.write(`${summary}: all valid (${[...report.events.keys()].sort().join(', ')})\n`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const shown = report.failures.slice(0, 30);
    process.stderr.write(
      `${summary}: ${report.failures.length} invalid (all collected lines: ${dir})\n${shown.map((f) => `  ${f}`).join('\n')}\n`,
    );
    if (report.failures.length > shown.length) process.stderr.write(`  … and ${report.failures.length - shown.length} more\n`);
    throw new Error(`${report.failures.length} supervisor log line(s) do not match docs/log-events.schema.json (listed above)`);
  };
}
