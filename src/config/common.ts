// Variables every role shares: stop timing, the supervisor's log level and mode, the probe endpoint.
import * as z from 'zod/mini';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import type { Settings } from '../supervise/plan.js';
import { filePath, integer, oneOf, secondsAsMs } from './variables.js';

export const commonSchema = z.object({
  STOP_TIMEOUT: secondsAsMs(3600, {
    default: '25',
    help: "Seconds the program gets to stop gracefully after the stop signal before the hard-stop step (each role's default budget DRAIN_DELAY + STOP_TIMEOUT + ESCALATION_GRACE is 28 s, inside Kubernetes' default 30 s grace).",
  }),
  DRAIN_DELAY: secondsAsMs(3600, {
    default: '0',
    help: "web: seconds between an orchestrator's stop request (TERM, PWR) and the stop signal, so load balancers stop routing first; the program keeps serving meanwhile. A Ctrl-C (INT) never waits.",
  }),
  ESCALATION_GRACE: secondsAsMs(3600, {
    default: '3',
    help: 'Seconds between the hard-stop step and SIGKILL to the whole process group.',
  }),
  SUPERVISOR_LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'info', help: "Level of the supervisor's own JSON log lines." }, (v) =>
    v.toLowerCase(),
  ),
  SUPERVISOR_LOG_FORMAT: oneOf(
    LOG_FORMATS,
    {
      default: 'auto',
      help: 'json: one JSON object per line; pretty: one readable line per event; auto: pretty when stderr is a terminal (podman run -it), json otherwise.',
    },
    (v) => v.toLowerCase(),
  ),
  SUPERVISOR_MODE: oneOf(
    ['supervise', 'exec'] as const,
    {
      default: 'supervise',
      help: 'exec replaces the supervisor with the program (no deadline, no lifecycle log after start; refused for worker).',
    },
    (v) => v.toLowerCase(),
  ),
  PROBE_PORT: z.optional(
    integer(1, 65535, {
      help: "Port of the supervisor's HTTP probe endpoint (GET /live, /ready) on every address of the pod; unset = no endpoint.",
    }),
  ),
  PROBE_HEARTBEAT_FILE: z.optional(
    filePath({
      help: 'A file the program touches while its main loop runs; /live fails when it is older than PROBE_HEARTBEAT_MAX_AGE. Unset = not checked.',
    }),
  ),
  PROBE_HEARTBEAT_MAX_AGE: secondsAsMs(86400, {
    default: '60',
    help: 'Seconds after which the heartbeat file counts as stale (the program hung).',
  }),
});

/** The name of a variable every role shares. */
export type CommonVariable = keyof typeof commonSchema.shape;

export function toSettings(vars: z.output<typeof commonSchema>): Settings {
  return {
    stopTimeoutMs: vars.STOP_TIMEOUT,
    drainDelayMs: vars.DRAIN_DELAY,
    escalationGraceMs: vars.ESCALATION_GRACE,
    logLevel: vars.SUPERVISOR_LOG_LEVEL,
    logFormat: vars.SUPERVISOR_LOG_FORMAT,
    mode: vars.SUPERVISOR_MODE,
    probePort: vars.PROBE_PORT,
    heartbeatFile: vars.PROBE_HEARTBEAT_FILE,
    heartbeatMaxAgeMs: vars.PROBE_HEARTBEAT_MAX_AGE,
  };
}

/** The settings as supervisor.start and --print show them: snake_case, like every other log field. */
export function describeSettings(settings: Settings) {
  return {
    stop_timeout_ms: settings.stopTimeoutMs,
    drain_delay_ms: settings.drainDelayMs,
    escalation_grace_ms: settings.escalationGraceMs,
    log_level: settings.logLevel,
    log_format: settings.logFormat,
    mode: settings.mode,
    // The probe fields only when the endpoint runs: without it they mean nothing.
    ...(settings.probePort === undefined
      ? {}
      : {
          probe_port: settings.probePort,
          ...(settings.heartbeatFile === undefined ? {} : { heartbeat_file: settings.heartbeatFile }),
          heartbeat_max_age_ms: settings.heartbeatMaxAgeMs,
        }),
  };
}
