// The beat drill's figures as one table row (bench/drill-results.md) and as one line (the bounded test's output).
import type { BeatDrillResult } from './beat-drill.js';
import { median, medianMax, seconds } from './roll-stats.js';

export const BEAT_TABLE_HEADER = [
  '| version set | runner | rolls | beat stop median / max | downtime median | tick gap median / max | ticks missed (all rolls) | ticks sent / run | ticks run twice | ticks sent twice | schedule file: saved every tick sent / read by the next beat | exit codes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

export function beatRow(r: BeatDrillResult): string {
  const saved = r.rolls.filter((roll) => roll.saved === roll.sentSoFar).length;
  const read = r.rolls.filter((roll) => !roll.newBeatDiscardedFile).length;
  const codes = [...new Set(r.rolls.map((roll) => roll.exitCode))].join(', ');
  return `| ${r.versions} | ${r.runner} | ${r.rolls.length} | ${medianMax(r.rolls.map((roll) => roll.stopMs))} | ${seconds(median(r.rolls.map((roll) => roll.downtimeMs)))} | ${medianMax(r.rolls.map((roll) => roll.tickGapMs))} | ${r.rolls.reduce((n, roll) => n + roll.missed, 0)} | ${r.ticksSent} / ${r.ticksRun} | ${r.ranTwice} | ${r.sentTwice} | ${saved}/${r.rolls.length} / ${read}/${r.rolls.length} | ${codes} |`;
}

export function beatSummary(r: BeatDrillResult): string {
  return (
    `[drill] beat ${r.versions} ${r.runner}: ${r.rolls.length} rolls, ticks sent ${r.ticksSent} run ${r.ticksRun}, ` +
    `missed ${r.rolls.reduce((n, roll) => n + roll.missed, 0)}, ran twice ${r.ranTwice}, sent twice ${r.sentTwice}, ` +
    `bad schedule ${r.badSchedule}, stop ${medianMax(r.rolls.map((roll) => roll.stopMs))}, tick gap ${medianMax(r.rolls.map((roll) => roll.tickGapMs))}`
  );
}
