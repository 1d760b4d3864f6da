/**
 * What celery beat saved in its schedule file (a shelve: the dbm format of the Python that wrote it, so it is read
 * back with the same version set's Python): each periodic task's total run count.
 */
import path from 'node:path';
import { outputOf, type VersionSet } from './versions.js';

const READ_RUN_COUNTS = [
  'import json, shelve, sys',
  "s = shelve.open(sys.argv[1], flag='r')",
  "print(json.dumps({name: entry.total_run_count for name, entry in s['entries'].items()}))",
].join('\n');

/** Run counts by entry name from the schedule file `file`; throws when the file cannot be read as a schedule. */
export function savedRunCounts(versions: VersionSet, file: string): Record<string, number> {
  const out = outputOf(versions, ['python3', '-c', READ_RUN_COUNTS, file], { workdir: path.dirname(file) });
  return JSON.parse(out) as Record<string, number>;
}
