// Entry point: `node dist/supervisor.js [--help|--print|--check|--version] [-- CMD ARGS…]`.
// The signal trap is the first import, so its listeners are installed before any dependency is evaluated.
import './signals/trap.js';
import { parseArgs } from './cli/args.js';
import { renderHelp } from './cli/help.js';
import { VERSION } from './cli/version.js';
import { runCommand } from './cli/commands.js';
import { exit, installLastResort } from './cli/last-resort.js';
import { createLogger } from './log.js';

const args = parseArgs(process.argv.slice(2));
if (args.ok && args.mode === 'help') {
  process.stdout.write(renderHelp(VERSION));
} else if (args.ok && args.mode === 'version') {
  process.stdout.write(`${VERSION}\n`);
} else {
  // Read before validation so config errors are logged at the requested level and format; an invalid value is
  // reported by validation.
  const log = createLogger(
    (process.env.SUPERVISOR_LOG_LEVEL ?? 'info').toLowerCase(),
    (process.env.SUPERVISOR_LOG_FORMAT ?? 'auto').toLowerCase(),
  );
  const fail = installLastResort(log);
  runCommand(args, log).then((code) => exit(log, code), fail);
}
