// The command line: one mode flag at most, and an optional one-off command after `--`.
export type Mode = 'run' | 'print' | 'check' | 'help' | 'version';

export type Args = { ok: true; mode: Mode; command?: string[] } | { ok: false; problem: string };

const FLAGS: Record<string, Mode> = {
  '--help': 'help',
  '-h': 'help',
  '--print': 'print',
  '--check': 'check',
  '--version': 'version',
  '-V': 'version',
};

export function parseArgs(args: readonly string[]): Args {
  const separator = args.indexOf('--');
  const options = separator === -1 ? args : args.slice(0, separator);
  let mode: Mode = 'run';
  for (const option of options) {
    const flagMode = FLAGS[option];
    if (!flagMode) {
      return {
        ok: false,
        problem: option.startsWith('-')
          ? `unknown option ${JSON.stringify(option)}; expected one of --help, --print, --check, --version, or -- COMMAND`
          : `unexpected argument ${JSON.stringify(option)}; a one-off command goes after --, e.g. -- flask db upgrade`,
      };
    }
    if (mode !== 'run' && mode !== flagMode) return { ok: false, problem: `--${mode} and ${option} cannot be combined` };
    mode = flagMode;
  }
  if (separator === -1) return { ok: true, mode };
  const command = args.slice(separator + 1);
  if (command.length === 0 || command[0] === '')
    return { ok: false, problem: '-- must be followed by a command, e.g. -- flask db upgrade' };
  return { ok: true, mode, command };
}
