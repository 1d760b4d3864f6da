// The worker drill's figures as one table row (bench/drill-results.md) and as one line (the bounded test's output).
import { medianMax, seconds } from './roll-stats.js';
import type { WorkerDrillResult } from './worker-drill.js';

export const WORKER_TABLE_HEADER = [
  '| version set | acks | runner | rolls | tasks sent | lost | of which never received | ran twice | FAILURE | left unacked | stop time median / max | roll time median / max | deploy time | stops stuck (early hard step) | stops past 8 s after the last task |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

export function workerRow(r: WorkerDrillResult): string {
  const stuck = r.rolls.filter((roll) => roll.stuck).length;
  const slow = r.rolls.filter((roll) => roll.afterLastTaskMs > 8000).length;
  return `| ${r.versions} | ${r.mode === 'acks_late' ? 'acks_late + reject_on_worker_lost' : "celery's defaults"} | ${r.runner} | ${r.rolls.length} | ${r.sent} | ${r.lost.length} | ${r.neverReceived.length} | ${r.duplicated.length} | ${r.failed.length} | ${r.unacked.length} | ${medianMax(r.rolls.map((roll) => roll.stopMs))} | ${medianMax(r.rolls.map((roll) => roll.rollMs))} | ${seconds(r.deployMs)} | ${stuck} | ${slow} |`;
}

export function workerSummary(r: WorkerDrillResult): string {
  return (
    `[drill] worker ${r.versions} ${r.mode} ${r.runner}: ${r.rolls.length} rolls, ${r.sent} tasks, lost ${r.lost.length} ` +
    `(never received ${r.neverReceived.length}), ran twice ${r.duplicated.length}, FAILURE ${r.failed.length}, ` +
    `unacked ${r.unacked.length}, stop ${medianMax(r.rolls.map((roll) => roll.stopMs))}, deploy ${seconds(r.deployMs)}, ` +
    `stuck ${r.rolls.filter((roll) => roll.stuck).length}`
  );
}
