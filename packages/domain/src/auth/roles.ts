import { ROLES, type TRole } from '@fleetplane/contracts';

const RANK: Record<TRole, number> = Object.fromEntries(ROLES.map((r, i) => [r, i])) as Record<TRole, number>;

/** True when `actual` grants at least what `required` needs (roles are ordered viewer < operator < approver < admin). */
export function roleAtLeast(actual: TRole, required: TRole): boolean {
  return RANK[actual] >= RANK[required];
}
