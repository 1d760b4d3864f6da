// vitest setupFiles: runs before each test file. After the file, whatever the toolkit registered and is still there
// (processes, containers, redis-servers, temp directories; test/support/cleanup.ts) is cleaned up.
import { afterAll } from 'vitest';
import { cleanupRegistered } from './cleanup.js';

afterAll(async () => {
  await cleanupRegistered();
});
