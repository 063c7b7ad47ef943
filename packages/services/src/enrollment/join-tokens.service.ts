import { ZCreateJoinTokenInput, ZJoinTokenListInput, type TCreateJoinTokenInput, type TJoinTokenStatus } from '@fleetplane/contracts';
import type { z } from 'zod';
import { withAudit, type ServiceContext } from '../context';
import { notFound, precondition } from '../errors';
import { hashSecret, JOIN_TOKEN_PREFIX, newSecret, secretPrefix } from '../shared/secrets';

export function joinTokenStatus(t: { usedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now = new Date()): TJoinTokenStatus {
  if (t.usedAt) return 'used';
  // The maintenance job stamps revokedAt on tokens that expired unused; those read as expired.
  if (t.revokedAt && t.revokedAt < t.expiresAt) return 'revoked';
  if (t.expiresAt <= now || t.revokedAt) return 'expired';
  return 'active';
}

/** Creates a one-time join token. The token itself is returned here and never again: only its hash is stored. */
export async function createJoinToken(ctx: ServiceContext, input: TCreateJoinTokenInput) {
  const data = ZCreateJoinTokenInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const cluster = await tx.cluster.findUnique({ where: { id: data.clusterId }, select: { id: true, name: true } });
    if (!cluster) throw notFound('Cluster', data.clusterId);
    const token = newSecret(JOIN_TOKEN_PREFIX);
    const row = await tx.joinToken.create({
      data: {
        clusterId: cluster.id,
        tokenHash: hashSecret(token),
        tokenPrefix: secretPrefix(token),
        description: data.description,
        expiresAt: new Date(Date.now() + data.expiresInMinutes * 60_000),
        createdById: ctx.actor.type === 'user' ? ctx.actor.id : null,
      },
    });
    await audit({
      action: 'join_token.create',
      targetType: 'join_token',
      targetId: row.id,
      after: {
        clusterId: cluster.id,
        cluster: cluster.name,
        tokenPrefix: row.tokenPrefix,
        description: row.description,
        expiresAt: row.expiresAt,
      },
    });
    return {
      id: row.id,
      token,
      tokenPrefix: row.tokenPrefix,
      clusterId: cluster.id,
      clusterName: cluster.name,
      expiresAt: row.expiresAt,
      description: row.description,
    };
  });
}

export async function listJoinTokens(ctx: Pick<ServiceContext, 'prisma'>, input: z.input<typeof ZJoinTokenListInput>) {
  const { clusterId } = ZJoinTokenListInput.parse(input);
  const rows = await ctx.prisma.joinToken.findMany({
    where: { clusterId },
    orderBy: { createdAt: 'desc' },
    take: 100,
    select: {
      id: true,
      tokenPrefix: true,
      description: true,
      createdAt: true,
      expiresAt: true,
      usedAt: true,
      revokedAt: true,
      createdBy: { select: { email: true } },
      usedByNode: { select: { id: true, hostname: true } },
    },
  });
  const now = new Date();
  return rows.map(({ createdBy, usedByNode, ...t }) => ({
    ...t,
    status: joinTokenStatus(t, now),
    createdBy: createdBy?.email ?? null,
    usedByNode,
  }));
}

/** Revoking an unused token makes it worthless; a used one is past revoking (revoke the node's credential). */
export function revokeJoinToken(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.joinToken.findUnique({ where: { id } });
    if (!before) throw notFound('Join token', id);
    const status = joinTokenStatus(before);
    if (status === 'used') throw precondition('This join token was already used to enroll a node; revoke that node’s credential instead.');
    if (status !== 'active') throw precondition(`This join token is already ${status}.`);
    const after = await tx.joinToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await audit({
      action: 'join_token.revoke',
      targetType: 'join_token',
      targetId: id,
      before: { tokenPrefix: before.tokenPrefix, revokedAt: null },
      after: { tokenPrefix: after.tokenPrefix, revokedAt: after.revokedAt },
    });
    return { id, revokedAt: after.revokedAt };
  });
}
