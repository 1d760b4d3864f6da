// vitest global setup: clears the collection of supervisor log lines before the run and, after every test file
// has run, checks each collected line against docs/log-events.schema.json (test/helpers/log-lines.ts). A line
// that fails makes the whole run fail, naming the line, the problem and the test that produced it.
import { rmSync } from 'node:fs';
import { COLLECTION_DIR, checkCollectedLines, readCollectedLines } from './helpers/log-lines.js';

export default function setup(): () => void {
  rmSync(COLLECTION_DIR, { recursive: true, force: true });
  return () => {
    const report = checkCollectedLines(readCollectedLines());
    const summary = `supervisor log lines: ${report.lines} distinct lines from ${report.sources} test files checked against docs/log-events.schema.json`;
    if (report.failures.length === 0) {
      process.stderr.write(`${summary}: all valid (${[...report.events.keys()].sort().join(', ')})\n`);
      return;
    }
    const shown = report.failures.slice(0, 30);
    process.stderr.write(`${summary}: ${report.failures.length} invalid\n${shown.map((f) => `  ${f}`).join('\n')}\n`);
    if (report.failures.length > shown.length) process.stderr.write(`  … and ${report.failures.length - shown.length} more\n`);
    throw new Error(`${report.failures.length} supervisor log line(s) do not match docs/log-events.schema.json (listed above)`);
  };
}
