// The deploy drill (`npm run drill`): not part of `npm test`; the bounded drill in test/drill is.
// DRILL_ONLY=web|worker|beat runs one role's drill; the others keep their sections of bench/drill-results.md.
import { defineConfig } from 'vitest/config';

const only = process.env.DRILL_ONLY;

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: [only ? `bench/drill/${only}.measure.ts` : 'bench/drill/*.measure.ts'],
    setupFiles: ['test/support/setup.ts'],
    fileParallelism: false,
    testTimeout: 14_400_000,
    hookTimeout: 1_500_000,
  },
});
