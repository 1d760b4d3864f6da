// The web half of the deploy drill (`DRILL_ONLY=web npm run drill`, about an hour on 2 cores): every balancer of
// test/support/drill/web-drill.ts on both version sets, the supervisor with its defaults (20 rolls each), the
// other DRAIN_DELAY values and start.sh (5 rolls each, time-bound). Rewrites the web section of
// bench/drill-results.md. DRILL_WEB_* variables override the parameters (test/support/drill/web-drill.ts).
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { DRILL_LOG_DIR } from '../../test/support/drill/paths.js';
import { useContainerCleanup } from '../../test/support/real/container.js';
import { versionsOf } from '../../test/support/real/report.js';
import { writeDrillSection } from '../../test/support/drill/report.js';
import { type DrillRun, FULL_WEB_DRILL, runWebDrill, toolVersions, webDrillParameters } from '../../test/support/drill/web-drill.js';
import { failedIn, runRow, webDrillSection } from '../../test/support/drill/web-report.js';

useContainerCleanup();

it('web: rolling replacements behind every balancer, on both version sets', async () => {
  const parameters = webDrillParameters(FULL_WEB_DRILL);
  for (const set of parameters.versionSets) await set.prepare();
  const versions = {
    ...Object.fromEntries(parameters.versionSets.map((set) => [set.name, versionsOf(set)])),
    "balancer and load (the host's)": toolVersions(),
  };
  // The section is rewritten after every deploy, so a drill cut short still leaves what it measured.
  const done: DrillRun[] = [];
  const errors: string[] = [];
  const write = () => {
    writeDrillSection('web', webDrillSection(done, parameters, versions, errors));
    // The raw figures, for a second look (not committed).
    fs.mkdirSync(DRILL_LOG_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(DRILL_LOG_DIR, 'web-runs.json'),
      JSON.stringify(
        done.map((run) => ({ versions: run.versions.name, balancer: run.balancer.id, variant: run.variant.id, result: run.result })),
      ),
    );
  };
  await runWebDrill(parameters, {
    onRun(run) {
      done.push(run);
      console.info(`[drill web] ${runRow(run)}`);
      write();
    },
    onError(error, where) {
      errors.push(`${where.versions.name}, ${where.balancer.label}, ${where.variant.id}: ${String(error).split('\n')[0]}`);
      console.error(`[drill web] ${errors.at(-1)}`);
      write();
    },
  });

  const lossy = (run: DrillRun) => run.result.rolls.some((roll) => failedIn(roll) > 0);
  expect(errors, 'every deploy ran').toEqual([]);
  expect(done.filter((run) => run.variant.defaults && lossy(run)).map(runRow), 'the supervisor with its defaults loses nothing').toEqual(
    [],
  );
});
