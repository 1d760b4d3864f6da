// SUPERVISOR_LOG_FORMAT=pretty (or auto on a terminal): the same events as the JSON lines, one readable line each,
// for a person at `bash dev.sh demo` or `podman run -it`. No dependency: pino-pretty would add its module graph
// (and a worker thread as a transport) to every start-up, for a mode only a terminal uses.

/** Fields every line has; shown in the line's head, not repeated in its tail. */
const HEAD_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'event', 'msg']);

const LEVEL_COLOURS: Record<string, string> = {
  fatal: '\x1b[41;97m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[90m',
  trace: '\x1b[90m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/**
 * `12:00:03.512 INFO  supervisor[2] child.spawn  started gunicorn as pid 7 …  child_pid=7 argv=["gunicorn",…]`
 * from one of pino's JSON lines. Still one line ending in a newline (a stack stays escaped), so it is one write(2).
 */
export function prettyLine(json: string, colours: boolean): string {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json; // not ours to reshape
  }
  const level = String(fields.level ?? '');
  const time = typeof fields.time === 'string' ? fields.time.slice(11, 23) : '';
  const tail = withoutControls(
    Object.entries(fields)
      .filter(([key]) => !HEAD_FIELDS.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' && /^[!#-<>-~]+$/.test(value) ? value : JSON.stringify(value)}`)
      .join(' '),
  );
  const paint = (code: string | undefined, text: string) => (colours && code ? `${code}${text}${RESET}` : text);
  return (
    [
      paint(DIM, time),
      paint(LEVEL_COLOURS[level], level.toUpperCase().padEnd(5)),
      paint(DIM, `supervisor[${String(fields.pid ?? '?')}]`),
      String(fields.event ?? '').padEnd(18),
      withoutControls(String(fields.msg ?? '')),
      tail === '' ? '' : ` ${paint(DIM, tail)}`,
    ]
      .join(' ')
      .trimEnd() + '\n'
  );
}

/** A message or field may quote a path or a variable's value: its control characters (a terminal escape sequence) are shown, not obeyed. */
function withoutControls(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
