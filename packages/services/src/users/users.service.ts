import { randomUUID } from 'node:crypto';
import {
  ZCreateUserInput,
  ZResetPasswordInput,
  ZSetUserDisabledInput,
  ZSetUserRoleInput,
  ZUserListInput,
  type TCreateUserInput,
  type TRole,
} from '@fleetplane/contracts';
import { UserRepository } from '@fleetplane/db';
import type { z } from 'zod';
import { SYSTEM_ACTOR, withAudit, type PasswordHasher, type ServiceContext } from '../context';
import { conflict, forbidden, isUniqueViolation, notFound, precondition } from '../errors';

export async function listUsers(ctx: Pick<ServiceContext, 'prisma'>, input: z.input<typeof ZUserListInput>) {
  const q = ZUserListInput.parse(input);
  const { items, total } = await new UserRepository(ctx.prisma).list({
    skip: (q.page - 1) * q.pageSize,
    take: q.pageSize,
    sortBy: q.sortBy,
    sortDir: q.sortDir,
    search: q.search || undefined,
    role: q.role,
  });
  return {
    items: items.map(({ _count, ...u }) => ({ ...u, activeSessions: _count.sessions })),
    total,
    page: q.page,
    pageSize: q.pageSize,
  };
}

export async function createUser(ctx: ServiceContext, input: TCreateUserInput, hash: PasswordHasher) {
  const data = ZCreateUserInput.parse(input);
  const passwordHash = await hash(data.password);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const user = await new UserRepository(tx).createWithPassword({
        id: randomUUID(),
        email: data.email,
        name: data.name,
        role: data.role,
        passwordHash,
      });
      // The password (and its hash) never reach the audit log.
      await audit({
        action: 'user.create',
        targetType: 'user',
        targetId: user.id,
        after: { email: user.email, name: user.name, role: user.role },
      });
      return { id: user.id, email: user.email, role: user.role };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A user with email ${data.email} already exists`, 'email');
    throw e;
  }
}

async function guardLastAdmin(repo: UserRepository, userId: string, currentRole: TRole, disabled: boolean) {
  if (currentRole === 'admin' && !disabled && (await repo.countAdmins()) <= 1) {
    throw precondition('This is the last active admin; make another user admin first.');
  }
  void userId;
}

export function setUserRole(ctx: ServiceContext, input: z.input<typeof ZSetUserRoleInput>) {
  const { userId, role } = ZSetUserRoleInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const repo = new UserRepository(tx);
    const before = await repo.get(userId);
    if (!before) throw notFound('User', userId);
    if (before.role === role) return before;
    if (role !== 'admin') await guardLastAdmin(repo, userId, before.role, before.disabledAt !== null);
    const after = await repo.update(userId, { role });
    // A role change takes effect at once: existing sessions carry the old role.
    await repo.revokeSessions(userId);
    await audit({
      action: 'user.set_role',
      targetType: 'user',
      targetId: userId,
      before: { role: before.role },
      after: { role: after.role },
    });
    return { id: after.id, email: after.email, role: after.role };
  });
}

export function setUserDisabled(ctx: ServiceContext, input: z.input<typeof ZSetUserDisabledInput>) {
  const { userId, disabled } = ZSetUserDisabledInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const repo = new UserRepository(tx);
    const before = await repo.get(userId);
    if (!before) throw notFound('User', userId);
    if (disabled && ctx.actor.id === userId) throw forbidden('You cannot disable your own account.');
    if (disabled) await guardLastAdmin(repo, userId, before.role, before.disabledAt !== null);
    const after = await repo.update(userId, { disabledAt: disabled ? new Date() : null });
    if (disabled) await repo.revokeSessions(userId);
    await audit({
      action: disabled ? 'user.disable' : 'user.enable',
      targetType: 'user',
      targetId: userId,
      before: { disabledAt: before.disabledAt },
      after: { disabledAt: after.disabledAt },
    });
    return { id: after.id, disabledAt: after.disabledAt };
  });
}

export async function resetUserPassword(ctx: ServiceContext, input: z.input<typeof ZResetPasswordInput>, hash: PasswordHasher) {
  const { userId, password } = ZResetPasswordInput.parse(input);
  const passwordHash = await hash(password);
  return withAudit(ctx, async (tx, audit) => {
    const repo = new UserRepository(tx);
    const before = await repo.get(userId);
    if (!before) throw notFound('User', userId);
    await repo.setPasswordHash(userId, passwordHash);
    await repo.revokeSessions(userId);
    await audit({ action: 'user.reset_password', targetType: 'user', targetId: userId });
    return { id: userId };
  });
}

/**
 * Creates the first admin at start when none exists. Returns whether one was created, so the
 * launcher can print a generated password exactly once.
 */
export async function ensureFirstAdmin(ctx: Pick<ServiceContext, 'prisma'>, email: string, password: string, hash: PasswordHasher) {
  const repo = new UserRepository(ctx.prisma);
  if ((await repo.countAdmins()) > 0) return { created: false as const };
  const existing = await repo.findByEmail(email);
  if (existing) {
    await setUserRole({ ...ctx, actor: SYSTEM_ACTOR }, { userId: existing.id, role: 'admin' });
    return { created: false as const, promoted: true };
  }
  await createUser({ ...ctx, actor: SYSTEM_ACTOR }, { email, name: 'Administrator', role: 'admin', password }, hash);
  return { created: true as const };
}
