import type { ServiceContext } from '../context';

/**
 * Removes sessions past their expiry (Better Auth only ignores them) and closes join tokens that
 * expired unused, so neither table grows without bound and expired tokens read as such in the UI.
 */
export async function expireCredentials(ctx: Pick<ServiceContext, 'prisma'>, now = new Date()) {
  const sessions = await ctx.prisma.session.deleteMany({ where: { expiresAt: { lt: now } } });
  const verifications = await ctx.prisma.verification.deleteMany({ where: { expiresAt: { lt: now } } });
  const joinTokens = await ctx.prisma.joinToken.updateMany({
    where: { expiresAt: { lt: now }, usedAt: null, revokedAt: null },
    data: { revokedAt: now },
  });
  return { sessionsDeleted: sessions.count, verificationsDeleted: verifications.count, joinTokensExpired: joinTokens.count };
}
