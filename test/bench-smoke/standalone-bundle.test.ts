// The image copies dist/supervisor.js alone to /app/dist/: no node_modules, no package.json beside it. Prove the
// bundle is self-contained the way it ships: copied alone into an empty directory outside the repository, it
// resolves a plan (--print) and supervises a one-off command to its exit code, with its JSON log intact.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cleanup.js';
import { bundleCopiedAlone, parseLog } from '../support/supervisor.js';

const dir = tempDir('eveai-standalone-');
const { bundle, run } = bundleCopiedAlone(dir);

describe('dist/supervisor.js copied alone, as the image has it', () => {
  it('is the only file there', () => {
    expect(readdirSync(dir)).toEqual(['supervisor.js']);
  });

  it('requires nothing but Node builtins, on any path (lazily loaded modules included)', () => {
    const required = [...readFileSync(bundle, 'utf8').matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !builtinModules.includes(name.replace(/^node:/, '')))).toEqual([]);
  });

  it('--print resolves the plan without node_modules', () => {
    const result = run(['--print'], { ROLE: 'worker', CELERY_QUEUES: 'a,b' });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      role: 'worker',
      argv: [
        'celery',
        '-A',
        'scripts.run_eveai_workers',
        'worker',
        '--loglevel=INFO',
        '--concurrency=2',
        '--max-tasks-per-child=1000',
        '--prefetch-multiplier=1',
        '-O',
        'fair',
        '-Q',
        'a,b',
      ],
    });
  });

  it("an invalid configuration is reported in the supervisor's own words, exit 78", () => {
    const result = run(['--check'], { ROLE: 'web', PORT: 'eighty' });
    expect(result.status).toBe(78);
    expect(parseLog(result.stderr).find((l) => l.event === 'config.invalid')).toMatchObject({
      variable: 'PORT',
      expected: 'an integer from 1 to 65535',
    });
  });

  it('supervises a one-off command to its exit code, with the lifecycle log on stderr', () => {
    const result = run(['--', 'sh', '-c', 'echo from-the-child; exit 3']);
    expect(result.status).toBe(3);
    expect(result.stdout).toBe('from-the-child\n');
    const events = parseLog(result.stderr).map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['supervisor.start', 'child.spawn', 'child.exit']));
    expect(parseLog(result.stderr).at(-1)).toMatchObject({ event: 'supervisor.exit', code: 3 });
  });
});
