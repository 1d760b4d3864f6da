// The bounded web deploy drill (the full one: bench/drill/web.measure.ts): behind every balancer of the drill —
// HTTP with retries and L4 without, each learning of a stop by health checks on /ready or, as kube-proxy does, by
// the endpoint's removal a propagation delay after the SIGTERM — a few rolling replacements under closed-loop load,
// keep-alive and one connection per request side by side. The supervisor with its defaults must not fail a single
// request; start.sh's failures are recorded, not asserted. DRILL_WEB_* variables override the parameters.
import { describe, expect, it } from 'vitest';
import { useContainerCleanup } from '../support/real/container.js';
import { BALANCERS, SUPERVISOR_DEFAULTS, runWebDrill, webDrillParameters } from '../support/drill/web-drill.js';
import { failedIn, runRow } from '../support/drill/web-report.js';
import { BOOKWORM } from '../support/real/versions.js';

useContainerCleanup();

const parameters = webDrillParameters({
  rolls: 2,
  compareRolls: 1,
  rate: 300,
  settleMs: 1000,
  propagationMs: 2000,
  versionSets: [BOOKWORM],
  balancers: [...BALANCERS],
  drainDelays: [],
  startSh: true,
});

describe.each(parameters.balancers)('web deploy drill, $label', (balancer) => {
  it('the supervisor with its defaults fails no request; start.sh is recorded', async () => {
    const runs = await runWebDrill(
      { ...parameters, balancers: [balancer] },
      { onRun: (run) => console.info(`[drill web] ${runRow(run)}`) },
    );
    for (const run of runs) {
      const name = `${run.versions.name}, ${run.variant.id}`;
      // Before the first roll nothing is stopped: a failure there is the drill's own.
      expect(
        Object.values(run.result.steady).map((load) => load.failed),
        `${name}: steady load`,
      ).toEqual([0, 0]);
      if (run.variant !== SUPERVISOR_DEFAULTS) continue;
      expect(run.result.rolls.map(failedIn), `${name}: failed requests per roll`).toEqual(run.result.rolls.map(() => 0));
      expect(
        run.result.rolls.map((roll) => roll.exitCode),
        `${name}: exit codes`,
      ).toEqual(run.result.rolls.map(() => 0));
      // The load reached every roll: a drill that sent nothing would pass anything.
      for (const roll of run.result.rolls) for (const load of Object.values(roll.load)) expect(load.requests).toBeGreaterThan(100);
    }
  }, 600_000);
});
