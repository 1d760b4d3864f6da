// --help, generated from the zod schemas and the role policies: there is no hand-kept list to go stale.
import { commonSchema, type CommonVariable } from '../config/common.js';
import { infoOf } from '../config/variables.js';
import { ROLES, ROLE_NAMES } from '../roles/index.js';
import { ALIASES, HANDLED_SIGNALS, NOT_LISTENED, type HandledSignal } from '../signals/trap.js';
import type { Role } from '../roles/types.js';
import type { SignalRule } from '../supervise/plan.js';
import { EXIT } from '../exit-codes.js';

export function renderHelp(version: string): string {
  const sections = [
    `eveai-supervisor ${version}: runs the program of ROLE (${ROLE_NAMES.join(' | ')}) and stops it safely.`,
    '',
    'Usage:',
    '  supervisor.js              run the role given by ROLE (default web)',
    '  supervisor.js --print      print the resolved plan as JSON and exit',
    '  supervisor.js --check      validate the environment and exit 0 or 78',
    '  supervisor.js --version    print the version',
    '  supervisor.js -- CMD ARGS  run a one-off command (Jobs/CronJobs) with the same stop and exit-code guarantees',
    '',
    variablesSection('Every role', { ROLE: undefined, ...commonSchema.shape }),
    ...ROLES.map((role) => variablesSection(`ROLE=${role.name}: ${role.summary}`, role.schema.shape)),
    'Unset or empty variables take their default. Every other variable is passed to the program untouched.',
    '',
    'Signals (what the supervisor does with each one it receives):',
    renderSignalTable(ROLES),
    '',
    'Signals without a row above:',
    renderUnlistenedTable(),
    '',
    `Exit codes: the program's own code; 128+N when signal N killed it; ${EXIT.NOT_FOUND} program not found; ${EXIT.NOT_EXECUTABLE} not executable;`,
    `${EXIT.CONFIG} invalid configuration (nothing started); ${EXIT.USAGE} invalid command line; ${EXIT.INTERNAL} internal error (the group was killed).`,
  ];
  return `${sections.join('\n')}\n`;
}

function variablesSection(title: string, shape: Readonly<Record<string, unknown>>): string {
  const lines = [`${title}:`];
  for (const [name, schema] of Object.entries(shape)) {
    if (name === 'ROLE') {
      lines.push(`  ROLE  (default web)  one of ${ROLE_NAMES.join(', ')}`, '      Which program this container runs.');
      continue;
    }
    const info = infoOf(schema);
    if (!info) continue;
    // A common variable some roles default differently (web's stop timing): every default, by role.
    const byRole = ROLES.flatMap((role) => {
      const value = role.commonDefaults?.[name as CommonVariable];
      return value === undefined ? [] : [`${role.name}: ${value}`];
    });
    const fallback = info.default === undefined ? 'optional' : `default ${[info.default, ...byRole].join('; ')}`;
    lines.push(`  ${name}  (${fallback})  ${info.expected}`, `      ${info.help}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A markdown table, one row per signal, one column per role; the README carries the same table. */
export function renderSignalTable(roles: readonly Role[]): string {
  const header = `| signal | ${roles.map((r) => r.name).join(' | ')} |`;
  const rule = `|---|${roles.map(() => '---').join('|')}|`;
  const rows = HANDLED_SIGNALS.map(
    (signal) => `| ${signal} | ${roles.map((r) => describeRule(r.policy.rules[signal], drainOf(r, signal))).join(' | ')} |`,
  );
  const hardStop = `| stop deadline | ${roles
    .map((r) =>
      r.policy.hardStop
        ? `${r.policy.hardStop.signal} to the ${r.policy.hardStop.target}: ${r.policy.hardStop.why}`
        : 'SIGKILL to the group at once',
    )
    .join(' | ')} |`;
  return [header, rule, ...rows, hardStop].join('\n');
}

/** The signals no role table has: aliases, those Node cannot or must not listen for, and the real-time range. */
export function renderUnlistenedTable(): string {
  const rows = [
    ...Object.entries(ALIASES).map(([alias, name]) => `| ${alias} | the same signal as ${name}: handled as ${name} |`),
    ...Object.entries(NOT_LISTENED).map(([signal, what]) => `| ${signal} | ${what} |`),
    `| real-time (SIGRTMIN…SIGRTMAX, 34–64) | ${REAL_TIME}. tini forwards them |`,
  ];
  return ['| signal | what happens |', '|---|---|', ...rows].join('\n');
}

const REAL_TIME =
  'Node has no name for them, so nothing can listen: the default action ends the supervisor at once, before any code of ' +
  'its own runs; under tini, tini then exits and the namespace teardown SIGKILLs the program (running work is lost); ' +
  'without a PID namespace the program is left running. Never make one a STOPSIGNAL';

/** For a role that drains: whether this stop request waits DRAIN_DELAY first. Nothing to say for the others. */
function drainOf(role: Role, signal: HandledSignal): 'drain' | 'no drain' | undefined {
  if (role.policy.drains.length === 0) return undefined;
  return role.policy.drains.includes(signal) ? 'drain' : 'no drain';
}

function describeRule(rule: SignalRule, drain: 'drain' | 'no drain' | undefined): string {
  switch (rule.action) {
    case 'stop':
      if (drain === 'drain') return `stop: DRAIN_DELAY, then ${rule.send} to the leader once (${rule.why})`;
      if (drain === 'no drain') return `stop: ${rule.send} to the leader at once, without DRAIN_DELAY (${rule.why})`;
      return `stop: ${rule.send} to the leader once (${rule.why})`;
    case 'stop-now':
      return `stop now: hard-stop step (${rule.why})`;
    case 'forward':
      return `to the ${rule.target} (${rule.why})`;
    case 'drop':
      return `dropped (${rule.why})`;
  }
}
