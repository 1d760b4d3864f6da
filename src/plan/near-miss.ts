// Warns about variables that look like a typo of one the supervisor reads (WORKER=4, CELERY_CONCURENCY=8):
// with start.sh such a typo silently ran with the default.

// Names every container has; never report them, however close they are to ours (HOME ~ ROLE).
const WELL_KNOWN = new Set([
  'HOME',
  'PATH',
  'PWD',
  'OLDPWD',
  'USER',
  'SHELL',
  'TERM',
  'LANG',
  'HOSTNAME',
  'SHLVL',
  'TZ',
  'PS1',
  'MAIL',
  'LOGNAME',
]);

export interface NearMiss {
  variable: string;
  intended: string;
}

/** Names that are not ours but are one edit away from one of ours (two for long names), or differ only in case. */
export function findNearMisses(names: Iterable<string>, known: readonly string[]): NearMiss[] {
  const knownSet = new Set(known);
  const misses: NearMiss[] = [];
  for (const variable of names) {
    if (knownSet.has(variable) || WELL_KNOWN.has(variable) || variable.length > 64) continue;
    const intended = closest(variable, known);
    if (intended) misses.push({ variable, intended });
  }
  return misses;
}

function closest(name: string, known: readonly string[]): string | undefined {
  const upper = name.toUpperCase();
  for (const candidate of known) {
    const allowed = candidate.length >= 8 ? 2 : 1;
    if (editDistance(upper, candidate, allowed) <= allowed) return candidate;
  }
  return undefined;
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}
