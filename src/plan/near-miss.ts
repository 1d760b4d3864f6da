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
    if (Math.abs(upper.length - candidate.length) > allowed || !sharesAPiece(upper, candidate, allowed)) continue;
    if (editDistance(upper, candidate, allowed) <= allowed) return candidate;
  }
  return undefined;
}

/**
 * A necessary condition for `name` to be within `edits` edits of `candidate`: cut into edits + 1 pieces, at least
 * one piece of it is left untouched (each edit changes one piece at most), so it occurs in `candidate` as it is.
 * String search is native code: it rules out almost every pair of a container's environment (tens to hundreds of
 * names, read before the program starts) without the distance table.
 */
function sharesAPiece(name: string, candidate: string, edits: number): boolean {
  const pieces = edits + 1;
  if (name.length < pieces) return true; // too short to cut: the distance table decides
  for (let i = 0; i < pieces; i++) {
    const piece = name.slice(Math.floor((i * name.length) / pieces), Math.floor(((i + 1) * name.length) / pieces));
    if (candidate.includes(piece)) return true;
  }
  return false;
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
