// One full garbage collection a second after the program started, then never again.
//
// Start-up allocations grow V8's heap, which arms its memory reducer; with no GC after that, the reducer finds no
// allocation history to judge by and wakes the process every 8 s forever, without ever collecting. One GC lets it
// finish its own (two GCs, about 8 s later) and stop: an idle supervisor then costs no CPU, and ~2 MB less resident
// (bench/RESULTS.md). Node exposes gc() only through --expose-gc, a flag that would cost start-up (it invalidates
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
      gc({ type: 'major', execution: 'sync' });
    } catch {
      // an optimisation only
    }
  }, STARTUP_GC_DELAY_MS).unref();
}
