import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Checks every supervisor log line the run produced against docs/log-events.schema.json, after all files.
    globalSetup: ['test/log-lines.setup.ts'],
    // Cleans up after every file whatever the test toolkit started or made and is still there (test/support/cleanup.ts).
    setupFiles: ['test/support/setup.ts'],
    // Integration tests run real process trees and scan /proc: one file at a time keeps them independent
    // on a 2-core machine. Unit tests are fast enough that this costs little.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
