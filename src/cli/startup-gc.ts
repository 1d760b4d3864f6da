// One memory-reducing garbage collection a second after the program started, then never again.
//
// Start-up allocations grow V8's heap and arm its memory reducer. Whether that reducer then gives the start-up
// garbage back is V8's guess about the process: with no GC after start-up it wakes the process every 8 s forever
// without collecting; after one plain GC it collects and stops in most runs but not in all (9 of 34 idle starts
// measured here, 7 of 8 when a preload with an exit hook ran first), and such a supervisor keeps ~1.7 MiB of heap
// pages it never uses again, for the container's whole life. So this collection is the memory-reducing kind V8 runs
// under memory pressure ("last resort": full collections until nothing more is freed, the young generation shrunk,
// free pages returned): every supervisor reaches its idle size a second after the spawn, whatever the reducer
// decides afterwards (bench/RESULTS.md, idle RSS). It flushes no compiled code, the stop path's included (V8's
// --trace-flush-code). Node exposes gc() only through --expose-gc, a flag that would cost start-up (it invalidates
// the code cache Node embeds for its builtins), so it is switched on here, off the path to spawn. Best effort.

/** false only in the bench/ build that measures what this buys (build.mjs `startupGc`). */
declare const __SUPERVISOR_STARTUP_GC__: boolean | undefined;

/** Late enough that the program's own start-up has the CPU first; well before anyone measures an idle container. */
const STARTUP_GC_DELAY_MS = 1000;

export function collectStartupGarbageOnce(): void {
  if (typeof __SUPERVISOR_STARTUP_GC__ === 'boolean' && !__SUPERVISOR_STARTUP_GC__) return;
  setTimeout(() => {
    try {
      process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
      const gc = process.getBuiltinModule('node:vm').runInNewContext('gc') as (options?: object) => void;
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    } catch {
      // an optimisation only
    }
  }, STARTUP_GC_DELAY_MS).unref();
}
