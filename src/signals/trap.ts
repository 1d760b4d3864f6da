// Installed by the very first import of the entry point, before any dependency is evaluated:
// - a SIGTERM during start-up must not kill the supervisor with its default action once a child may exist,
// - SIGUSR1 without a listener would open Node's inspector on 127.0.0.1:9229.
// Signals that arrive before the supervisor is ready are queued and replayed in order.

export const HANDLED_SIGNALS = [
  'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH',
] as const;
export type HandledSignal = (typeof HANDLED_SIGNALS)[number];

type Handler = (signal: HandledSignal) => void;

const pending: HandledSignal[] = [];
let handler: Handler | undefined;

function receive(signal: NodeJS.Signals): void {
  const handled = signal as HandledSignal;
  if (handler) handler(handled);
  else pending.push(handled);
}

for (const signal of HANDLED_SIGNALS) process.on(signal, receive);

/** Route every handled signal to `next`, first replaying those that arrived while nobody listened. */
export function routeSignals(next: Handler): void {
  handler = next;
  for (const signal of pending.splice(0)) next(signal);
}

/** Takes the signals that arrived while nobody listened (start-up), so the entry point can act on them before spawning. */
export function takePendingSignals(): HandledSignal[] {
  return pending.splice(0);
}
