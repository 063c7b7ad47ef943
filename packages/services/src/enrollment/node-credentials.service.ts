import { ZNodeCredentialListInput } from '@fleetplane/contracts';
import type { z } from 'zod';
import { withAudit, type ServiceContext } from '../context';
import { notFound, precondition } from '../errors';

export async function listNodeCredentials(ctx: Pick<ServiceContext, 'prisma'>, input: z.input<typeof ZNodeCredentialListInput>) {
  const { nodeId } = ZNodeCredentialListInput.parse(input);
  if (!(await ctx.prisma.node.findUnique({ where: { id: nodeId }, select: { id: true } }))) throw notFound('Node', nodeId);
  return ctx.prisma.nodeCredential.findMany({
    where: { nodeId },
    orderBy: { createdAt: 'desc' },
    select: { id: true, tokenPrefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

/** A revoked credential is refused (401) from the next request on; the agent keeps its data queued on disk. */
export function revokeNodeCredential(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.nodeCredential.findUnique({ where: { id }, include: { node: { select: { hostname: true } } } });
    if (!before) throw notFound('Node credential', id);
    if (before.revokedAt) throw precondition('This credential is already revoked.');
    const after = await tx.nodeCredential.update({ where: { id }, data: { revokedAt: new Date() } });
    await audit({
      action: 'node_credential.revoke',
      targetType: 'node_credential',
      targetId: id,
      before: { nodeId: before.nodeId, hostname: before.node.hostname, tokenPrefix: before.tokenPrefix, revokedAt: null },
      after: { nodeId: after.nodeId, hostname: before.node.hostname, tokenPrefix: after.tokenPrefix, revokedAt: after.revokedAt },
    });
    return { id, nodeId: after.nodeId, revokedAt: after.revokedAt };
  });
}
