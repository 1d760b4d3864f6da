// The image's ENTRYPOINT, read from Dockerfile.base (its last exec-form ENTRYPOINT): the soak, the pre-init bench and
// the tests start PID 1 exactly as the image does, from the one place that says how.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCKERFILE = join(import.meta.dirname, '..', 'Dockerfile.base');

/** e.g. ['/usr/bin/tini', '--']; throws when Dockerfile.base has no exec-form ENTRYPOINT. */
export function imageEntrypoint() {
  const forms = [...readFileSync(DOCKERFILE, 'utf8').matchAll(/^ENTRYPOINT\s+(\[.*\])\s*$/gm)];
  const argv = forms.length > 0 ? JSON.parse(forms.at(-1)[1]) : undefined;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    throw new Error(`${DOCKERFILE}: no exec-form ENTRYPOINT`);
  return argv;
}

export const IMAGE_ENTRYPOINT = imageEntrypoint();

/** The migration plan's entrypoint, `tini -g --`: kept measurable next to the image's (bench/soak.mjs --topologies). */
export const TINI_GROUP_ENTRYPOINT = [IMAGE_ENTRYPOINT[0], '-g', '--'];
