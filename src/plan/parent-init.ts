// Whether the supervisor's parent is tini forwarding to process groups (`-g`, or TINI_KILL_PROCESS_GROUP): such a
// tini loses a stop that arrives before its child has made its own group, and the container then runs until the
// runtime's SIGKILL. Pure: the caller passes the parent's and its own argv (/proc/PID/cmdline) and the environment.
// Option parsing as tini 0.19 does it (src/tini.c): getopt() with "p:hvwgle:s", `-p` and `-e` take an argument, so
// `-sg` is `-s -g` and `-pg` is `-p g`; `--` ends tini's options; and TINI_KILL_PROCESS_GROUP set to anything, even
// empty, turns -g on (getenv() != NULL). tini execs its child with its own environment, so that variable is the
// supervisor's too: no need to read /proc/1/environ.
import type { Advice } from './findings.js';

/** tini's names: Debian's two builds, and Docker's `--init` (docker-init, which is tini). */
const TINI_NAMES = new Set(['tini', 'tini-static', 'docker-init']);
const OPTIONS_WITH_ARGUMENT = new Set(['p', 'e']);
export const TINI_GROUP_VARIABLE = 'TINI_KILL_PROCESS_GROUP';

const FIX =
  'plain tini as PID 1, ENTRYPOINT ["/usr/bin/tini-static", "--"] (no -g, no TINI_KILL_PROCESS_GROUP): with -g tini forwards a stop ' +
  "to its child's process group, which exists only once that child has called setpgid() after tini's fork, so a stop in that " +
  'instant is dropped (tini logs "Child was dead when forwarding signal") and the container runs until the runtime\'s SIGKILL; ' +
  'the supervisor runs its program in a process group of its own, so -g adds nothing';

/**
 * Advice when `parentArgv` is tini with -g (or the environment turns it on); undefined otherwise. `ownArgv` marks
 * where tini's options end: tini's argv is its options, then the supervisor's own argv.
 */
export function tiniGroupAdvice(parentArgv: readonly string[], ownArgv: readonly string[], env: NodeJS.ProcessEnv): Advice | undefined {
  const name = parentArgv[0]?.split('/').at(-1) ?? '';
  if (!TINI_NAMES.has(name)) return undefined;
  const options = tiniOptions(parentArgv.slice(1), ownArgv);
  // Only tini's options are shown: the words after them are the supervisor's, a one-off command's arguments included.
  if (options.group) return { variable: 'ENTRYPOINT', value: [parentArgv[0]!, ...options.words].join(' '), advice: FIX };
  // Not the supervisor's variable: its value is not logged.
  if (env[TINI_GROUP_VARIABLE] !== undefined) return { variable: TINI_GROUP_VARIABLE, value: '(set, value not shown)', advice: FIX };
  return undefined;
}

/**
 * What getopt() takes as tini's options in tini's arguments `args`: the option words (and the argument word of a -p
 * or -e that ends one), and whether -g is among them, alone or in a cluster (-sg, -vvg; in -pg the g is -p's
 * argument). They end where the supervisor's argv starts (tini's argv ends with it) or at `--`; when the supervisor's
 * argv is not the suffix (glibc's getopt also takes options after the program name), only at `--`.
 */
function tiniOptions(args: readonly string[], ownArgv: readonly string[]): { words: string[]; group: boolean } {
  const childAt = args.length - ownArgv.length;
  const isSuffix = ownArgv.length > 0 && childAt >= 0 && ownArgv.every((arg, i) => args[childAt + i] === arg);
  const words: string[] = [];
  let group = false;
  for (let i = 0; i < (isSuffix ? childAt : args.length); i++) {
    const word = args[i]!;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') continue; // a non-option word: glibc's getopt moves past it
    words.push(word);
    for (let c = 1; c < word.length; c++) {
      if (word[c] === 'g') group = true;
      if (!OPTIONS_WITH_ARGUMENT.has(word[c]!)) continue;
      if (c === word.length - 1 && i + 1 < args.length) words.push(args[++i]!); // the argument is the next word…
      break; // …or the rest of this one
    }
  }
  return { words, group };
}
