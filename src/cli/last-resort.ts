// Whatever ends the supervisor — a crash, an unhandled rejection, a signal Node's default kills it with — nothing
// of the program's group outlives it, and every ordinary end writes `supervisor.exit` last.
import { onExit } from 'signal-exit';
import type { Logger } from '../log.js';
import { EXIT } from '../exit-codes.js';
import { sendToGroup } from '../supervise/process-group.js';

/** The program's pid (= its group) from spawn until its group is known to be empty. */
let liveGroup: number | undefined;

export function watchGroup(pid: number): void {
  liveGroup = pid;
}

export function forgetGroup(): void {
  liveGroup = undefined;
}

/** The handler for anything thrown that nobody caught: kill the group, one fatal line, exit 70. */
export function installLastResort(log: Logger): (error: unknown) => never {
  const fail = (error: unknown): never => {
    killLiveGroup(); // first: whatever else fails on the way out, nothing of the program outlives the supervisor
    const err = error instanceof Error ? error : new Error(String(error));
    log.fatal({ event: 'supervisor.error', error: err.message, stack: err.stack }, `internal error: ${err.message}`);
    return exit(log, EXIT.INTERNAL);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  onExit(killLiveGroup, { alwaysLast: true });
  return fail;
}

export function exit(log: Logger, code: number): never {
  log.info({ event: 'supervisor.exit', code }, `exiting with code ${code}`);
  process.exit(code);
}

function killLiveGroup(): void {
  if (liveGroup === undefined) return;
  try {
    sendToGroup(liveGroup, 'SIGKILL');
  } catch {
    // nothing more can be done on the way out
  }
}
