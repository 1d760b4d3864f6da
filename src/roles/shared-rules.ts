// Signals whose meaning is the same for every role: they concern the supervisor process itself (its terminal,
// its own limits, its own faults), never a request to the program. Each role spreads these into its table.
import type { SignalRule } from '../supervise/plan.js';

export const SUPERVISOR_ONLY_RULES = {
  SIGTSTP: {
    action: 'drop',
    why: 'a stopped supervisor would leave the program running with nobody to stop it on time; the program, in a session of its own, has no terminal job control',
  },
  SIGCONT: { action: 'drop', why: 'the kernel has already resumed the supervisor; it never stops the program' },
  SIGURG: { action: 'drop', why: 'out-of-band data on a socket; the supervisor has none' },
  SIGXCPU: { action: 'drop', why: "the supervisor's own CPU-time limit; the program has its own limit and gets its own XCPU" },
  SIGXFSZ: { action: 'drop', why: "the supervisor's own file-size limit; the write fails with EFBIG instead, as in Node" },
  SIGPIPE: { action: 'drop', why: "a write of the supervisor's own to a closed pipe; the write fails with EPIPE instead, as in Node" },
  SIGABRT: {
    action: 'drop',
    why: 'a fault signal for the process that raises it (a real abort() still ends the supervisor); tini never forwards it',
  },
  SIGTRAP: { action: 'drop', why: "a debugger's breakpoint signal, no request to the program; tini never forwards it" },
  SIGSYS: { action: 'drop', why: "a bad system call of the supervisor's own, no request to the program; tini never forwards it" },
  SIGSTKFLT: { action: 'drop', why: 'unused on Linux; its default action would end the supervisor' },
} as const satisfies Record<string, SignalRule>;

/** LXC and Incus ask a container's init to shut down with SIGPWR: the same graceful stop as TERM. */
export const POWER_FAILURE_STOP = {
  action: 'stop',
  send: 'SIGTERM',
  why: "LXC/Incus's shutdown request: the same graceful stop as TERM",
} as const satisfies SignalRule;
