import { randomUUID } from 'node:crypto';
import { hashPassword } from '@fleetplane/auth';
import type { TRole } from '@fleetplane/contracts';
import { UserRepository, type PrismaClient } from '@fleetplane/db';

/** Demo accounts, one per role below admin (the admin comes from FLEETPLANE_ADMIN_*). */
export const DEMO_PASSWORD = 'fleetplane-demo';
export const DEMO_USERS: { email: string; name: string; role: TRole }[] = [
  { email: 'operator@fleetplane.local', name: 'Olga Operator', role: 'operator' },
  { email: 'approver@fleetplane.local', name: 'Arun Approver', role: 'approver' },
  { email: 'viewer@fleetplane.local', name: 'Vera Viewer', role: 'viewer' },
];

export async function seedDemoUsers(prisma: PrismaClient) {
  const repo = new UserRepository(prisma);
  const hash = await hashPassword(DEMO_PASSWORD);
  let created = 0;
  for (const u of DEMO_USERS) {
    if (await repo.findByEmail(u.email)) continue;
    await repo.createWithPassword({ id: randomUUID(), email: u.email, name: u.name, role: u.role, passwordHash: hash });
    created += 1;
  }
  return created;
}
