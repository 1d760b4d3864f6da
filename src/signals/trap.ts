// Installed by the very first import of the entry point, before any dependency is evaluated:
// - no signal the supervisor can listen for may take its default action (most of them end the process, and a
//   supervisor that dies leaves the program without a deadline, or kills it mid-work on the way out),
// - SIGUSR1 without a listener would open Node's inspector on 127.0.0.1:9229.
// Signals that arrive before the supervisor is ready are queued and replayed in order.

/** Every signal of Node's os.constants.signals that has a meaning of its own in the roles' tables. */
export const HANDLED_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGPWR',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
  'SIGTTIN',
  'SIGTTOU',
  'SIGWINCH',
  'SIGTSTP',
  'SIGCONT',
  'SIGALRM',
  'SIGVTALRM',
  'SIGPROF',
  'SIGIO',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGPIPE',
  'SIGABRT',
  'SIGTRAP',
  'SIGSYS',
  'SIGSTKFLT',
] as const;
export type HandledSignal = (typeof HANDLED_SIGNALS)[number];

/**
 * Second names of a handled signal number. Node emits an event per name listened for, so these get a listener
 * that does nothing: the signal is handled once, under its first name, and signal-exit (which listens for
 * SIGIOT and SIGPOLL) never sees itself as the only listener, which would make it kill the group and re-raise.
 */
export const ALIASES = { SIGIOT: 'SIGABRT', SIGPOLL: 'SIGIO' } as const satisfies Record<string, HandledSignal>;

/** The signals of os.constants.signals the supervisor does not listen for, and what happens with each. */
export const NOT_LISTENED: Record<string, string> = {
  SIGKILL:
    'cannot be caught: the supervisor dies at once; under tini, tini exits and the namespace teardown SIGKILLs the program; without a PID namespace the program is left running',
  SIGSTOP: 'cannot be caught: the supervisor is suspended (the program runs on without a deadline) until SIGCONT',
  SIGSEGV:
    'a fault: a listener would return to the faulting instruction and fault forever, a hang instead of a crash; V8 also owns it for WebAssembly. Sent by kill, it ends the supervisor as SIGKILL does (tini never forwards it)',
  SIGBUS: 'a fault: as SIGSEGV',
  SIGFPE: 'a fault: as SIGSEGV',
  SIGILL: 'a fault: as SIGSEGV',
  SIGCHLD:
    "how the kernel reports the program's exit (libuv reaps on it); its default action is to ignore, so a CHLD sent by anyone changes nothing",
};

type Handler = (signal: HandledSignal) => void;

const pending: HandledSignal[] = [];
let handler: Handler | undefined;

function receive(signal: NodeJS.Signals): void {
  const handled = signal as HandledSignal;
  if (handler) handler(handled);
  else pending.push(handled);
}

for (const signal of HANDLED_SIGNALS) process.on(signal, receive);
for (const alias of Object.keys(ALIASES)) process.on(alias as NodeJS.Signals, () => {});

/** Route every handled signal to `next`, first replaying those that arrived while nobody listened. */
export function routeSignals(next: Handler): void {
  handler = next;
  for (const signal of pending.splice(0)) next(signal);
}

/**
 * Takes the signals that arrived while nobody listened, after one turn of the event loop: a signal is only
 * ever delivered to a listener there, so without that turn one that reached the process during start-up
 * would still be waiting in the kernel's pipe and would be seen only once the program runs.
 */
export async function takePendingSignals(): Promise<HandledSignal[]> {
  await new Promise((resolve) => setImmediate(resolve));
  return pending.splice(0);
}
