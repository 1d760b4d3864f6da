// Not part of `npm test` (its own config): `npx vitest run --config bench/restore-delay/vitest.config.ts`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['bench/restore-delay/*.measure.ts'],
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 1_500_000,
  },
});
