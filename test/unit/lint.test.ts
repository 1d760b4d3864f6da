// The lint configuration catches what it is there for: run on a file with one bug of each kind.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';

describe('eslint.config.js', () => {
  it('reports a floating promise, an unused variable and a switch that misses a member of its union', async () => {
    const eslint = new ESLint({ cwd: ROOT, ignore: false });
    const [result] = await eslint.lintFiles([join(ROOT, 'test', 'fixtures', 'lint', 'bugs.ts')]);
    expect(result!.messages.map((m) => m.ruleId).sort()).toEqual([
      '@typescript-eslint/no-floating-promises',
      '@typescript-eslint/no-unused-vars',
      '@typescript-eslint/switch-exhaustiveness-check',
    ]);
  }, 60_000);
});
