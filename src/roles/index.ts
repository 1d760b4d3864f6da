// The registry: adding a role is one file in this folder and one line here.
import type { Role } from './types.js';
import { web } from './web.js';
import { worker } from './worker.js';
import { beat } from './beat.js';

export const ROLES: readonly Role[] = [web, worker, beat];

export const ROLE_NAMES = ROLES.map((role) => role.name);

export function findRole(name: string): Role | undefined {
  return ROLES.find((role) => role.name === name);
}
