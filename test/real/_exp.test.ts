import { it } from 'vitest';
import fs from 'node:fs';
import { useCleanup } from './harness/cleanup.js';
import { workerStopWithTasksInFlight } from './harness/scenarios.js';
useCleanup();
for (const [i, conc] of [[1, 2], [2, 2], [3, 8], [4, 1]] as const) {
  it(`conc ${conc} #${i}`, async () => {
    const o = await workerStopWithTasksInFlight({ name: `exp-conc-${i}`, runner: 'supervisor', tasks: conc, seconds: 60, concurrency: conc, env: { STOP_TIMEOUT: '2', ESCALATION_GRACE: '5' }, exitDeadlineMs: 30_000 });
    const log = fs.readFileSync(o.container.logFile, 'utf8');
    const quit = o.events.find(e => e.event === 'shutdown.escalate');
    const restoring = log.match(/\[(\d+-\d+-\d+ [\d:]+,\d+): WARNING\/MainProcess\] Restoring/);
    const restoreMs = restoring ? Date.parse(restoring[1]!.replace(' ', 'T').replace(',', '.') + 'Z') - Date.parse(String(quit?.time)) : NaN;
    console.info(`[exp] conc=${conc} counts=${JSON.stringify(o.counts)} exit=${o.exit.code} stop=${o.exit.stopMs} quit->restoring=${restoreMs}ms`);
  }, 90_000);
}
