// A Debian root filesystem made with debootstrap, for the image stand-ins and the real-process version sets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireProgram, run, unmountBelow } from './command.js';
import { entriesOf } from './paths.js';

export interface Bootstrap {
  suite: string;
  packages: readonly string[];
  /** The directory the root filesystem is made in. */
  target: string;
  /** debootstrap's cache of downloaded packages, shared between runs. */
  debs: string;
  mirror?: string;
  timeoutMs: number;
}

/** Runs debootstrap (variant minbase) and unmounts whatever it left mounted below the target. */
export async function debootstrap({ suite, packages, target, debs, mirror = debianMirror(), timeoutMs }: Bootstrap): Promise<void> {
  await run(
    [requireProgram('debootstrap'), '--variant=minbase', `--cache-dir=${debs}`, `--include=${packages.join(',')}`, suite, target, mirror],
    { timeoutMs },
  );
  await unmountBelow(target);
}

/** The Debian mirror apt uses on this host (deb822 or one-line sources), default deb.debian.org. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...entriesOf('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const uris = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(?:bookworm|trixie)\s/m.exec(text)?.[1];
    if (uris && /\/debian\/?$/.test(uris)) return uris.replace(/\/$/, '');
  }
  return 'http://deb.debian.org/debian';
}
