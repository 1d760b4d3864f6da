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
  const others = [...names].filter((name) => !knownSet.has(name) && !WELL_KNOWN.has(name) && name.length <= 64);
  const upper = others.map((name) => name.toUpperCase());
  // Every other name, upper-cased, each after a NUL (no name holds one), in one text: for each piece of a known name
  // one native search finds the names it occurs in. The work per known name then hardly grows with the environment
  // (a pod's holds tens to hundreds of names, all read before the program starts), and no loop of it gets hot enough
  // for V8 to compile it with Maglev, whose compiler pages would stay resident.
  const text = upper.map((name) => `\0${name}`).join('');
  const startOf = new Map<number, number>(); // offset of a name's NUL in `text` -> its index
  upper.reduce((offset, name, index) => (startOf.set(offset, index), offset + name.length + 1), 0);
  const intended: (string | undefined)[] = [];
  for (const candidate of known) {
    // In order: the first known name within reach wins.
    const edits = candidate.length >= 8 ? 2 : 1;
    for (const piece of piecesOf(candidate, edits + 1)) {
      for (let at = text.indexOf(piece); at !== -1; at = text.indexOf(piece, at + 1)) {
        const index = startOf.get(text.lastIndexOf('\0', at))!;
        if (intended[index] === undefined && editDistance(upper[index]!, candidate, edits) <= edits) intended[index] = candidate;
      }
    }
  }
  return others.flatMap((variable, index) => (intended[index] ? [{ variable, intended: intended[index] }] : []));
}

/**
 * `name` cut into `count` pieces. A name within count - 1 edits of another keeps at least one piece untouched (each
 * edit changes one piece at most), so that piece occurs in the other as it is. Too short to cut: one piece, the empty
 * string, which occurs everywhere.
 */
function piecesOf(name: string, count: number): string[] {
  if (name.length < count) return [''];
  return Array.from({ length: count }, (_, i) =>
    name.slice(Math.floor((i * name.length) / count), Math.floor(((i + 1) * name.length) / count)),
  );
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
