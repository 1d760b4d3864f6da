/**
 * Fixed facts of the real-process suite: where things are, who runs them, and the clean environment a
 * "container" starts with (nothing of the test runner's environment leaks in, like an image).
 */
import path from 'node:path';
import { ROOT } from '../paths.js';

export const OLD_START_SH = 'test/baseline/start.sh'; // relative to ROOT, like `scripts/start.sh` relative to /app
export const CELERY_CLIENT = path.join(ROOT, 'test/real/fixtures/celery_client.py');

/** The image's appuser (ARG UID=10001 / GID=10001 in the migration plan). */
export const APP_UID = 10001;
export const APP_GID = 10001;

/** Debian's python3, gunicorn and celery; a pyenv python earlier on a developer's PATH cannot import them. */
export const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The environment a container of the platform starts with (Dockerfile.base ENV lines + what the image user has). */
export function containerEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: SYSTEM_PATH,
    HOME: '/nonexistent', // useradd -M -d /nonexistent
    LANG: 'C.UTF-8',
    PYTHONPATH: ROOT,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}

/** Environment for helper programs the test itself runs on the host side (python client, redis). */
export function hostEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: SYSTEM_PATH,
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    PYTHONPATH: ROOT,
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}
