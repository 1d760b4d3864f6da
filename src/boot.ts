// The first code dist/supervisor.js runs. build.mjs puts the rest of the bundle (src/supervisor.ts and everything it
// imports) into the function `supervisorBody` above it, and this decides how that function gets compiled.
//
// Node's compile cache (NODE_COMPILE_CACHE) keeps what V8 compiled before the bundle's first line ran, and V8
// compiles a function only when it is first called: that cache holds the bundle's top level and none of the functions
// that validate, start the program, pass a stop request on and stop. They were compiled again at every start, and at
// the first stop request within the time it takes to pass it on (bench/RESULTS.md, "What each knob buys"). So, where
// Node's compile cache is on, the body is compiled through node:vm with a V8 code cache of its own, taken at the end
// of a whole run (Script.createCachedData() includes every function compiled by then) and kept in Node's cache
// directory for this Node version, V8 flags and uid. The image writes it at build time with a supervised run that is
// stopped by a TERM, before anything else runs there.
//
// A cache is never trusted beyond what V8 checks (its version, flags and the source's length): its file name carries
// a hash of the body, so a bundle never reads another's. One that is missing, unreadable or rejected is written at the
// end of the next run that started a program, when the directory is writable (like Node's own cache, the first such
// run that finds none writes it).
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { getCompileCacheDir } from 'node:module';
import { EXIT } from './exit-codes.js';

type Body = (moduleExports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

/** Defined by build.mjs: the bundle without this file, as a function. */
declare const supervisorBody: Body;
/** Defined by build.mjs: a hash of supervisorBody's text, so a cache written for another bundle is never read. */
declare const __SUPERVISOR_BODY_HASH__: string;

const cacheDir = getCompileCacheDir();
if (cacheDir === undefined) supervisorBody(exports, require, module, __filename, __dirname);
else runWithCodeCache(`${cacheDir}/eveai-supervisor-${__SUPERVISOR_BODY_HASH__}`);

function runWithCodeCache(file: string): void {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(file);
  } catch {
    // none yet, or not ours to read: compiled from source, and written at exit if possible
  }
  const { Script } = process.getBuiltinModule('node:vm');
  // The body starts on the file's second line; the parentheses make the script's value the function.
  const script = new Script(`(${supervisorBody.toString()})`, { filename: __filename, lineOffset: 1, columnOffset: -1, cachedData });
  if ((cachedData === undefined || script.cachedDataRejected === true) && startsAProgram(process.argv.slice(2))) {
    process.once('exit', (code) => {
      if (!NOTHING_STARTED.has(code)) writeCodeCache(script, file);
    });
  }
  const body = script.runInThisContext() as Body;
  body(exports, require, module, __filename, __dirname);
}

/** The supervisor's own exit codes for a run that started nothing (bad command line or configuration, no program). */
const NOTHING_STARTED = new Set<number>([EXIT.USAGE, EXIT.CONFIG, EXIT.INTERNAL, EXIT.NOT_EXECUTABLE, EXIT.NOT_FOUND]);

/**
 * Whether this run starts a program (no --help, --version, --print or --check before `--`): only such a run compiles
 * enough of the supervisor to be worth keeping, and the first cache written is the one every later run uses.
 */
function startsAProgram(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).length === 0;
}

/** Best effort: a directory the supervisor may not write to (a read-only image) keeps no cache, and nothing fails. */
function writeCodeCache(script: { createCachedData(): Buffer }, file: string): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    // Opened before the cache is serialized, so where nothing may be written this costs one failed open(2).
    const fd = openSync(partial, 'wx', 0o644);
    try {
      flagsBackAsAtStart();
      writeSync(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file); // a reader sees the whole file or none
  } catch {
    try {
      unlinkSync(partial);
    } catch {}
  }
}

/**
 * The V8 flags the supervisor switches at run time (src/cli/startup-gc.ts, src/probes/memory.ts), as Node 24 starts
 * them. A code cache carries a hash of V8's flags as they are when it is taken, and V8 rejects it where they differ:
 * taken after they changed, it would be rejected at the next start and written again at every exit. So they are set
 * back first, except one that Node's command line sets (test/integration/code-cache.test.ts holds it to Node's
 * version: Maglev, for one, is on although `node --v8-options` lists it as off).
 */
function flagsBackAsAtStart(): void {
  const RUN_TIME_FLAGS_AT_START = ['--no-expose-gc', '--maglev', '--turbofan', '--flush-bytecode'];
  const commandLine = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`.replaceAll('_', '-');
  const flags = RUN_TIME_FLAGS_AT_START.filter((flag) => !commandLine.includes(flag.replace(/^--(no-)?/, '')));
  process.getBuiltinModule('node:v8').setFlagsFromString(flags.join(' '));
}
