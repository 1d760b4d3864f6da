// process.env -> Plan, or the full list of problems. Pure: the caller passes the environment in.
import * as z from 'zod/mini';
import { commonSchema, toSettings } from '../config/common.js';
import { infoOf } from '../config/variables.js';
import { ROLES, ROLE_NAMES, findRole } from '../roles/index.js';
import { commandRole } from '../roles/command.js';
import type { Role } from '../roles/types.js';
import type { Plan, Settings } from '../supervise/plan.js';
import type { Advice, Problem } from './findings.js';
import { findNearMisses, type NearMiss } from './near-miss.js';
import { refusedEnvironment, workerTimingAdvice } from './guard-rails.js';

export type LoadResult =
  { ok: true; plan: Plan; nearMisses: NearMiss[]; advice: Advice[] } | { ok: false; problems: Problem[]; nearMisses: NearMiss[] };

export const DEFAULT_ROLE = 'web';

/** Every variable name the supervisor reads, for near-miss detection and --help. */
export function knownVariables(): string[] {
  const names = new Set(['ROLE', ...Object.keys(commonSchema.shape)]);
  for (const role of ROLES) for (const name of Object.keys(role.schema.shape)) names.add(name);
  return [...names];
}

/**
 * Validates the common variables and the role's (ROLE, or the one-off `command` when given) all at once,
 * so one run reports every problem.
 */
export function loadPlan(env: NodeJS.ProcessEnv, command?: readonly string[]): LoadResult {
  const nearMisses = findNearMisses(Object.keys(env), knownVariables());
  const problems: Problem[] = [];

  const roleName = valueOf(env, 'ROLE') ?? DEFAULT_ROLE;
  const role: Role | undefined = command ? commandRole(command) : findRole(roleName.toLowerCase());
  // The role decides some common defaults (web's stop timing); with an unknown ROLE the common ones apply.
  const common = validate(commonSchema, env, problems, role?.commonDefaults);
  if (!role) problems.push({ variable: 'ROLE', value: roleName, expected: `one of ${ROLE_NAMES.join(', ')}` });
  const vars = role ? validate(role.schema, env, problems) : undefined;

  // Judged on SUPERVISOR_MODE alone, so a problem in another common variable does not hide this one.
  const mode = commonSchema.shape.SUPERVISOR_MODE.safeParse(valueOf(env, 'SUPERVISOR_MODE') ?? 'supervise');
  if (role && mode.success && mode.data === 'exec' && !role.exec.allowed) {
    problems.push({ variable: 'SUPERVISOR_MODE', value: 'exec', expected: `supervise for ROLE=${role.name}: ${role.exec.why}` });
  }
  if (role) problems.push(...refusedEnvironment(role.name, env));
  const listenPort = role && vars ? role.listenPort?.(vars) : undefined;
  if (common) problems.push(...probeProblems(common, listenPort));
  if (problems.length > 0 || !role || !common || !vars) return { ok: false, problems, nearMisses };
  const settings = toSettings(common);
  return {
    ok: true,
    nearMisses,
    advice: adviceFor(role, settings, env),
    plan: { role: role.name, argv: role.argv(vars, settings), policy: role.policy, settings, exec: role.exec, listenPort },
  };
}

/** Probe settings that cannot work together with the rest: refused, like any invalid value. */
function probeProblems(common: z.output<typeof commonSchema>, listenPort: number | undefined): Problem[] {
  const problems: Problem[] = [];
  if (common.PROBE_HEARTBEAT_FILE !== undefined && common.PROBE_PORT === undefined) {
    problems.push({
      variable: 'PROBE_HEARTBEAT_FILE',
      value: common.PROBE_HEARTBEAT_FILE,
      expected: 'PROBE_PORT to be set as well (only the probe endpoint reads the heartbeat)',
    });
  }
  if (common.PROBE_PORT !== undefined && common.PROBE_PORT === listenPort) {
    problems.push({
      variable: 'PROBE_PORT',
      value: String(common.PROBE_PORT),
      expected: `a port other than PORT (${listenPort}), which the program binds`,
    });
  }
  if (common.PROBE_PORT !== undefined && common.SUPERVISOR_MODE === 'exec') {
    problems.push({
      variable: 'PROBE_PORT',
      value: String(common.PROBE_PORT),
      expected: 'unset with SUPERVISOR_MODE=exec (the supervisor is replaced by the program: nothing is left to answer probes)',
    });
  }
  return problems;
}

function adviceFor(role: Role, settings: Settings, env: NodeJS.ProcessEnv): Advice[] {
  const advice = workerTimingAdvice(role.name, settings, env);
  const needs = role.policy.hardStop?.needsGrace;
  if (!needs || settings.escalationGraceMs >= needs.ms) return advice;
  return [
    {
      variable: 'ESCALATION_GRACE',
      value: valueOf(env, 'ESCALATION_GRACE') ?? '',
      advice: `at least ${needs.ms / 1000} s for ROLE=${role.name}: ${needs.why}`,
    },
    ...advice,
  ];
}

/** An unset or empty variable takes its default, like start.sh's `${VAR:-default}`. */
function valueOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function validate<S extends z.ZodMiniObject>(
  schema: S,
  env: NodeJS.ProcessEnv,
  problems: Problem[],
  defaults: Readonly<Record<string, string | undefined>> = {},
): z.output<S> | undefined {
  const input: Record<string, string | undefined> = {};
  for (const [name, variable] of Object.entries(schema.shape)) {
    input[name] = valueOf(env, name) ?? defaults[name] ?? infoOf(variable)?.default;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const reported = new Set<string>();
  for (const issue of result.error.issues) {
    const name = String(issue.path[0]);
    if (reported.has(name)) continue;
    reported.add(name);
    problems.push({ variable: name, value: input[name] ?? '', expected: infoOf(schema.shape[name])?.expected ?? issue.message });
  }
  return undefined;
}
