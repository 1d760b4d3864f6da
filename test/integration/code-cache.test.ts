// The supervisor's own V8 code cache (src/boot.ts): where Node's compile cache is on (NODE_COMPILE_CACHE), the first
// run that finds no usable cache writes one at its end, in Node's cache directory for this Node version, V8 flags and
// uid; later runs compile from it. Whatever is found there — nothing, garbage, a place that cannot be written — the
// run itself is the same: same log events, same exit code. The bundle is copied alone into a directory of its own,
// as the image has it.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { freePort } from '../support/http.js';
import { bundleCopiedAlone, parseLog } from '../support/supervisor.js';

/** A supervised run that a TERM stops (the program signals the supervisor), as the image's build step runs it. */
const STOPPED_RUN = ['--', '/bin/sh', '-c', 'kill -TERM "$PPID"; exec sleep 5'];

function setUp() {
  const dir = tempDir('eveai-code-cache-');
  const copy = bundleCopiedAlone(dir);
  const cache = join(dir, 'cache');
  const run = (args: string[], env: Record<string, string> = { NODE_COMPILE_CACHE: cache }) => {
    const result = copy.run(args, env);
    return { status: result.status, events: parseLog(result.stderr).map((line) => line.event) };
  };
  /** The supervisor's cache files (Node's own are named by a number): path -> modification time and size. */
  const ours = () =>
    Object.fromEntries(
      (readdirSync(cache, { recursive: true }) as string[])
        .filter((name) => /(^|\/)eveai-supervisor-/.test(name))
        .map((name) => [join(cache, name), `${statSync(join(cache, name)).mtimeMs}/${statSync(join(cache, name)).size}`]),
    );
  return { dir, cache, run, ours };
}

const STOPPED_EVENTS = [
  'supervisor.start',
  'child.spawn',
  'signal.received',
  'shutdown.graceful',
  'child.exit',
  'shutdown.summary',
  'supervisor.exit',
];

describe("the supervisor's own code cache", () => {
  it('is written by the first run that finds none, then used as it is; the runs are the same', () => {
    const { run, ours } = setUp();
    const first = run(STOPPED_RUN);
    expect(first.status).toBe(143);
    expect(first.events).toEqual(expect.arrayContaining(STOPPED_EVENTS));
    const written = ours();
    expect(Object.keys(written)).toHaveLength(1);
    expect(Object.keys(written)[0]).not.toMatch(/partial/);

    for (const args of [STOPPED_RUN, ['--check'], ['--', 'sh', '-c', 'exit 3']]) {
      const again = run(args);
      if (args === STOPPED_RUN) expect(again).toEqual(first);
      else expect(again.status).toBe(args[0] === '--check' ? 0 : 3);
    }
    expect(ours()).toEqual(written); // accepted: never rewritten
  });

  it('written by a run that lived past the V8 flags the supervisor sets at run time, it is accepted by the next start', async () => {
    const { run, ours, cache } = setUp();
    // With PROBE_PORT set, V8's optimizing compilers and bytecode flushing go off at the spawn (src/probes/memory.ts);
    // a second after it, src/cli/startup-gc.ts switches gc() on.
    const env = { NODE_COMPILE_CACHE: cache, PROBE_PORT: String(await freePort()) };
    const longRun = ['--', '/bin/sh', '-c', 'sleep 1.5; kill -TERM "$PPID"; exec sleep 5'];
    expect(run(longRun, env).status).toBe(143);
    const written = ours();
    expect(Object.keys(written)).toHaveLength(1);
    expect(run(longRun, env).status).toBe(143);
    expect(run(STOPPED_RUN).status).toBe(143);
    expect(ours()).toEqual(written); // accepted by both: never rewritten
  });

  it('is not written by a run that started no program (--check, --help, …, bad configuration, no such program), which compiles too little', () => {
    const { run, ours, cache } = setUp();
    for (const args of [['--check'], ['--print'], ['--help'], ['--version']]) expect(run(args).status).toBe(0);
    expect(run([], { NODE_COMPILE_CACHE: cache, ROLE: 'nope' }).status).toBe(78);
    expect(run(['--', 'no-such-program-anywhere']).status).toBe(127);
    expect(ours()).toEqual({});
    expect(run(STOPPED_RUN).status).toBe(143);
    expect(Object.keys(ours())).toHaveLength(1);
  });

  it('garbage where the cache should be is ignored and replaced at the end of the run', () => {
    const { run, ours } = setUp();
    const first = run(STOPPED_RUN);
    const [file] = Object.keys(ours());
    writeFileSync(file!, 'not a V8 code cache');
    expect(run(STOPPED_RUN)).toEqual(first);
    expect(readFileSync(file!).length).toBeGreaterThan(1000);
    const replaced = ours();
    expect(run(STOPPED_RUN)).toEqual(first);
    expect(ours()).toEqual(replaced);
  });

  it('a cache that cannot be written changes nothing and leaves no partial file', () => {
    const { run, ours } = setUp();
    const first = run(STOPPED_RUN);
    const [file] = Object.keys(ours());
    // A directory in its place: not readable as a file, and the finished cache cannot be renamed onto it.
    rmSync(file!);
    mkdirSync(join(file!, 'in-the-way'), { recursive: true });
    expect(run(STOPPED_RUN)).toEqual(first);
    expect(run(['--', 'sh', '-c', 'exit 3']).status).toBe(3);
    expect(readdirSync(join(file!, '..')).filter((name) => name.includes('partial'))).toEqual([]);
    expect(statSync(file!).isDirectory()).toBe(true);
  });

  it('without NODE_COMPILE_CACHE nothing is written anywhere and the run is the same', () => {
    const { dir, run } = setUp();
    const withCache = run(STOPPED_RUN);
    const before = readdirSync(dir, { recursive: true });
    expect(run(STOPPED_RUN, {})).toEqual(withCache);
    expect(readdirSync(dir, { recursive: true })).toEqual(before);
  });
});
