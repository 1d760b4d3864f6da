// The log's `time` field is written without a Date object (src/log-time.ts): the same text as
// Date.prototype.toISOString, for every millisecond a supervisor can meet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../../src/log-time.js';

const YEAR_10000 = Date.UTC(10000, 0, 1);

describe('isoTimestamp', () => {
  it('is Date.prototype.toISOString for any millisecond from 1970 to the end of year 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: YEAR_10000 - 1 }), (ms) => {
        expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('at the edges: epoch, leap days, ends of years, centuries and 400-year cycles', () => {
    const edges = [0, Date.UTC(2000, 1, 29), Date.UTC(2100, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(2400, 1, 29, 12)];
    for (const year of [1970, 1999, 2000, 2024, 2038, 2099, 2100, 2399, 2400, 9999]) edges.push(Date.UTC(year, 11, 31, 23, 59, 59, 999));
    for (const ms of [...edges, Date.now(), YEAR_10000 - 1]) expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });

  it("is the supervisor's `time` field, and logging creates no Date", async () => {
    const { createLogger } = await import('../../src/log.js');
    const RealDate = globalThis.Date;
    let created = 0;
    globalThis.Date = new Proxy(RealDate, {
      construct(target, args: unknown[]) {
        created++;
        return Reflect.construct(target, args) as object;
      },
    });
    const lines: string[] = [];
    const before = RealDate.now();
    try {
      const log = createLogger('info', 'json', { write: (line: string) => lines.push(line) });
      log.info({ event: 'supervisor.exit', code: 0 }, 'exiting with code 0');
    } finally {
      globalThis.Date = RealDate;
    }
    expect(created).toBe(0);
    const time = (JSON.parse(lines[0]!) as { time: string }).time;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
  });
});
