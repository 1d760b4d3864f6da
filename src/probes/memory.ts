// Keeping a probed supervisor's memory flat. Every probe runs Node's socket machinery (a net.Socket and its stream
// states; for /ready also a connect to the program's port). Left to V8's defaults, two things about that grow the
// supervisor by tens of MiB within hours of a kubelet's probing, and it stays grown (bench/RESULTS-probes.md: what
// each costs, and what each of these two means buys):
//
// - Once that code is hot, V8 optimizes it: Maglev and Turbofan page in several MiB of the node binary, leave their
//   compiler zones in malloc's arenas and add optimized code. A probe gains nothing worth that (its CPU is mostly
//   the kernel's and Node's socket code either way), so once the program runs they are switched off for the rest of
//   the supervisor's life: the interpreter and the baseline compiler (Sparkplug) run everything from then on, and
//   nothing else the supervisor does after the spawn is hot. At run time and not in the image's CMD because a V8
//   flag on the command line makes Node reject its built-in code cache, which costs every start-up; and not before
//   the spawn, where it would cost the start-up of a run with PROBE_PORT the same way.
// - Young-generation collections do not free a connection's objects, whatever the young generation's size: about
//   a KiB of each moves to the old generation (0.7-0.8 KiB per connection on a bare node:net server, --trace-gc-nvp),
//   and V8 starts a full collection only once the old generation has grown by 8 MiB since the last one (its minimum
//   allocation-limit step, MemoryController::MinimumAllocationLimitGrowingStep). So after every GC_EVERY_CONNECTIONS
//   connections one collection runs, of the kind V8 runs under memory pressure ("last resort": full collections
//   until nothing more is freed, then the young generation shrunk back and freed pages returned): a plain full
//   collection frees the connections' objects but leaves the young generation at its largest (bench/RESULTS-probes.md:
//   2 MiB committed instead of 1, 0.6-0.7 MiB more at the peak). Bytecode flushing is switched off with the
//   compilers, or that collection would drop the compiled stop path as well (src/boot.ts's code cache), to be
//   compiled again when a stop comes.
//
// Node exposes none of this as an API: it goes through v8.setFlagsFromString, as src/cli/startup-gc.ts does.

/** Switched off only in the bench/ builds that measure what each means buys. */
declare const __PROBES_TIERS_OFF__: boolean | undefined;
declare const __PROBES_GC_EVERY__: number | undefined;
declare const __PROBES_GC_REDUCES_MEMORY__: boolean | undefined;

/** Connections answered between two full collections: ~1 KiB each stays in the old generation until one runs. */
const GC_EVERY_CONNECTIONS = typeof __PROBES_GC_EVERY__ === 'number' ? __PROBES_GC_EVERY__ : 256;
/** V8's gc() options: "last-resort" is the collection that also shrinks the young generation. */
const GC_OPTIONS = {
  type: 'major',
  execution: 'sync',
  flavor: typeof __PROBES_GC_REDUCES_MEMORY__ === 'boolean' && !__PROBES_GC_REDUCES_MEMORY__ ? 'regular' : 'last-resort',
};

/** From now on V8 runs this isolate's code without its optimizing compilers, and keeps its bytecode. Best effort. */
export function stopOptimizingCompilers(): void {
  if (typeof __PROBES_TIERS_OFF__ === 'boolean' && !__PROBES_TIERS_OFF__) return;
  try {
    process.getBuiltinModule('node:v8').setFlagsFromString('--no-maglev --no-turbofan --no-flush-bytecode');
  } catch {
    // an optimisation only
  }
}

/** Counts closed connections and runs a memory-reducing collection after every GC_EVERY_CONNECTIONS of them. */
export function collectGarbageEveryFewConnections(): () => void {
  let closed = 0;
  let collect: ((options: object) => void) | undefined;
  return () => {
    if (GC_EVERY_CONNECTIONS <= 0 || ++closed % GC_EVERY_CONNECTIONS !== 0) return;
    try {
      if (!collect) {
        process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
        collect = process.getBuiltinModule('node:vm').runInNewContext('gc') as (options: object) => void;
      }
      collect(GC_OPTIONS);
    } catch {
      // an optimisation only
    }
  };
}
