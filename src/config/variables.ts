// Building blocks for environment variables: each is a zod schema that parses the raw string
// (exactly what the environment holds) into a canonical value, registered with the text that
// `--help` and the error lines show. Nothing here reads the environment.
// zod/mini: zod's functional entry, whose functions esbuild can drop when unused (a namespace import keeps that
// possible); the chainable classic API puts every method, and so every schema class, on every schema.
import * as z from 'zod/mini';

export interface VariableInfo {
  /** Shown after "expected" when the value is invalid, e.g. "an integer from 1 to 65535". */
  expected: string;
  /** One line for --help. */
  help: string;
  /** The value used when the variable is unset or empty (start.sh's `${VAR:-default}`). */
  default?: string;
}

export const variableInfo = z.registry<VariableInfo>();

export type Variable<T = unknown> = z.ZodMiniType<T, string>;

function described<T>(schema: Variable<T>, info: VariableInfo): Variable<T> {
  schema.register(variableInfo, info);
  return schema;
}

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const IDENTIFIER = '[A-Za-z_][A-Za-z0-9_]*';
const DOTTED = `${IDENTIFIER}(\\.${IDENTIFIER})*`;

/** A whole number written in plain decimal digits (no sign, exponent, spaces or hex). */
export function integer(min: number, max: number, info: Omit<VariableInfo, 'expected'>): Variable<number> {
  const schema = z.pipe(z.pipe(z.string().check(z.regex(DIGITS)), z.transform(Number)), z.int().check(z.minimum(min), z.maximum(max)));
  return described(schema, { ...info, expected: `an integer from ${min} to ${max}` });
}

/** A duration written in seconds, decimals allowed; the parsed value is in milliseconds, what timers take. */
export function secondsAsMs(max: number, info: Omit<VariableInfo, 'expected'>): Variable<number> {
  const schema = z.pipe(
    z.pipe(z.pipe(z.string().check(z.regex(DECIMAL)), z.transform(Number)), z.number().check(z.minimum(0), z.maximum(max))),
    z.transform((s: number) => Math.round(s * 1000)),
  );
  return described(schema, { ...info, expected: `a number of seconds from 0 to ${max} (e.g. 25 or 0.5)` });
}

/** One of a fixed set of words, matched without regard to case and returned as `canonical` spells it. */
export function oneOf<const T extends string>(
  values: readonly T[],
  info: Omit<VariableInfo, 'expected'>,
  canonical: (value: string) => string = (v) => v,
): Variable<T> {
  const byCanonical = new Map(values.map((v) => [canonical(v), v]));
  const schema = z.pipe(
    z.string().check(z.refine((raw) => byCanonical.has(canonical(raw)))),
    z.transform((raw: string) => byCanonical.get(canonical(raw)) as T),
  );
  return described(schema, { ...info, expected: `one of ${values.join(', ')}` });
}

/** A Python module path, optionally followed by `:attribute` (and `()` for an app factory when allowed). */
export function pythonTarget(info: Omit<VariableInfo, 'expected'>, opts: { factory: boolean }): Variable<string> {
  const pattern = new RegExp(`^${DOTTED}(:${DOTTED}${opts.factory ? '(\\(\\))?' : ''})?$`);
  const example = opts.factory ? 'package.module:app or package.module:create_app()' : 'package.module or package.module:app';
  return described(z.string().check(z.regex(pattern)), { ...info, expected: `a Python module path like ${example}` });
}

/** A gunicorn worker class: one of its short names, or a dotted class path such as uvicorn.workers.UvicornWorker. */
export function workerClass(shortNames: readonly string[], info: Omit<VariableInfo, 'expected'>): Variable<string> {
  const dottedClass = new RegExp(`^${IDENTIFIER}(\\.${IDENTIFIER})+$`);
  const schema = z.string().check(z.refine((raw) => shortNames.includes(raw) || dottedClass.test(raw)));
  return described(schema, {
    ...info,
    expected: `one of ${shortNames.join(', ')}, or a dotted class path like uvicorn.workers.UvicornWorker`,
  });
}

/** A comma-separated list of names; blanks around commas are dropped, empty items are not allowed. */
export function nameList(info: Omit<VariableInfo, 'expected'>): Variable<string[]> {
  const item = /^[A-Za-z0-9_.:@/-]+$/;
  const schema = z
    .pipe(
      z.string(),
      z.transform((raw: string) => raw.split(',').map((s) => s.trim())),
    )
    .check(z.refine((items) => items.every((s) => item.test(s) && !s.startsWith('-'))));
  return described(schema, {
    ...info,
    expected: 'a comma-separated list of names made of letters, digits and _ . : @ / - (not starting with -)',
  });
}

/** A file path: no control characters, and not starting with "-" (it would read as an option). */
export function filePath(info: Omit<VariableInfo, 'expected'>): Variable<string> {
  const schema = z.string().check(z.maxLength(4096), z.regex(/^[^\x00-\x1f\x7f-][^\x00-\x1f\x7f]*$/));
  return described(schema, { ...info, expected: 'a file path without control characters, not starting with -' });
}

/** The registered description of a variable, looking through `z.optional()`. */
export function infoOf(schema: unknown) {
  let current = schema as z.ZodMiniType | undefined;
  while (current) {
    const info = variableInfo.get(current);
    if (info) return info;
    current = current instanceof z.ZodMiniOptional ? (current.def.innerType as z.ZodMiniType) : undefined;
  }
  return undefined;
}
