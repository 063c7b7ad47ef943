import { z } from 'zod';

/** Roles in increasing order of power: each role can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export const ZRole = z.enum(ROLES);
export type TRole = z.infer<typeof ZRole>;

export const ROLE_DESCRIPTIONS: Record<TRole, string> = {
  viewer: 'Reads dashboards, inventory, runs and alerts.',
  operator: 'Manages inventory, triggers pipelines and validation runs, acknowledges alerts.',
  approver: 'Approves or rejects model upgrades (never their own requests).',
  admin: 'Manages users, join tokens and settings.',
};
