// Resolves argv[0] on PATH the way execvp does, so a missing or non-executable program gets a message
// that names it and the PATH searched, before anything is started.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EXIT } from '../exit-codes.js';

export type Found = { ok: true; path: string } | { ok: false; exitCode: number; reason: string };

export function findProgram(name: string, searchPath: string | undefined): Found {
  if (name === '') return { ok: false, exitCode: EXIT.NOT_FOUND, reason: 'empty program name' };
  const dirs = name.includes('/') ? [undefined] : (searchPath ?? '').split(delimiter);
  let unusable: string | undefined;
  for (const dir of dirs) {
    // Joined one at a time: the program is usually in one of the first directories.
    const candidate = dir === undefined ? name : join(dir || '.', name);
    const kind = kindOf(candidate);
    if (kind === 'executable') return { ok: true, path: candidate };
    if (kind !== 'missing') unusable ??= `${candidate} is ${kind === 'directory' ? 'a directory' : 'not executable'}`;
  }
  if (unusable) return { ok: false, exitCode: EXIT.NOT_EXECUTABLE, reason: unusable };
  return { ok: false, exitCode: EXIT.NOT_FOUND, reason: name.includes('/') ? `${name} does not exist` : `${name} is not on PATH` };
}

function kindOf(path: string): 'executable' | 'directory' | 'not-executable' | 'missing' {
  try {
    if (statSync(path).isDirectory()) return 'directory';
    accessSync(path, constants.X_OK);
    return 'executable';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'not-executable' : 'missing';
  }
}
