// Figures over a drill's rolls, as the worker and beat reports print them.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds as seconds with one decimal ("2.4 s"); "–" when there is nothing to show. */
export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–';
}

/** "median / max" of `values` in seconds. */
export function medianMax(values: readonly number[]): string {
  return values.length === 0 ? '–' : `${seconds(median(values))} / ${seconds(Math.max(...values))}`;
}
