/**
 * requirements.txt pins what the trixie row of test/real runs: every pinned distribution is installed in the
 * trixie root filesystem at exactly the pinned version, except the differences requirements.txt lists in its
 * header (redis-py: celery[redis] declares < 6, Debian ships 6.1). A pin moved without a test run on the new
 * release, or a trixie point release that moves a package, fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import { TRIXIE, outputOf } from '../support/real/versions.js';

/** Pinned distributions the suite does not run at the pinned version, each listed in requirements.txt's header. */
const KNOWN_DIFFERENCES = ['redis'];

function pins(): Map<string, string> {
  const result = new Map<string, string>();
  for (const raw of fs.readFileSync(path.join(ROOT, 'requirements.txt'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const match = /^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)$/.exec(line);
    if (!match) throw new Error(`requirements.txt: not an exact pin: ${line}`);
    result.set(match[1]!.toLowerCase(), match[2]!);
  }
  return result;
}

describe('requirements.txt pins the releases the trixie row runs', () => {
  beforeAll(() => TRIXIE.prepare(), 1_500_000);

  it('every pin equals the installed version, or is a listed difference', () => {
    const pinned = pins();
    const installed = JSON.parse(
      outputOf(TRIXIE, [
        'python3',
        '-c',
        'import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))',
        ...pinned.keys(),
      ]),
    ) as Record<string, string>;
    const header = fs
      .readFileSync(path.join(ROOT, 'requirements.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    for (const [name, version] of pinned) {
      if (KNOWN_DIFFERENCES.includes(name)) {
        expect(installed[name], `${name} differs`).not.toBe(version);
        expect(header, `requirements.txt's header explains ${name}`).toMatch(new RegExp(`${name}-py|${name}:`, 'i'));
      } else {
        expect(installed[name], name).toBe(version);
      }
    }
    expect([...pinned.keys()]).toEqual(expect.arrayContaining(['celery', 'kombu', 'billiard', 'gunicorn', 'gevent', 'flask', 'redis']));
  });
});
