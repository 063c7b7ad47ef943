import { isIP } from 'node:net';
import type { TEnrollRequest, TEnrollResponse } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { withAudit } from '../context';
import { isUniqueViolation } from '../errors';
import { AgentApiError } from '../shared/agent-api-error';
import { hashSecret, newSecret, NODE_CREDENTIAL_PREFIX, secretPrefix } from '../shared/secrets';
import { lockJoinToken } from './enroll.sql';

/**
 * Trades a one-time join token for a node credential. The token row is locked (FOR UPDATE) and every
 * check and change happens in one transaction, so two agents racing with one token get one node and
 * one 409; a refused request changes nothing. The node is the token cluster's node with this
 * hostname (created when missing); re-enrolling a node revokes its older credentials.
 */
export async function enrollNode(
  prisma: PrismaClient,
  request: TEnrollRequest,
  meta: { ipAddress: string | null },
  now = new Date(),
): Promise<TEnrollResponse> {
  const tokenHash = hashSecret(request.joinToken);
  const actor = { type: 'agent' as const, id: null, label: `agent:${request.hostname}`, ipAddress: meta.ipAddress };
  try {
    return await withAudit({ prisma, actor }, async (tx, audit) => {
      const token = await lockJoinToken(tx, tokenHash);
      if (!token)
        throw new AgentApiError(
          'unauthorized',
          'This join token is not valid. Check that it was copied completely, or ask an operator for a new one.',
        );
      if (token.used_at) {
        throw new AgentApiError(
          'conflict',
          `This join token was already used at ${token.used_at.toISOString()}; join tokens work once. Ask an operator for a new one.`,
        );
      }
      // The maintenance job stamps revokedAt on tokens that expired unused: those answer "expired".
      if (token.revoked_at && token.revoked_at < token.expires_at) {
        throw new AgentApiError(
          'unauthorized',
          `This join token was revoked at ${token.revoked_at.toISOString()}. Ask an operator for a new one.`,
        );
      }
      if (token.expires_at <= now)
        throw new AgentApiError('expired', `This join token expired at ${token.expires_at.toISOString()}. Ask an operator for a new one.`);

      const existing = await tx.node.findUnique({
        where: { clusterId_hostname: { clusterId: token.cluster_id, hostname: request.hostname } },
      });
      const versions = {
        agentVersion: request.agentVersion,
        driverVersion: request.driverVersion ?? existing?.driverVersion ?? null,
        cudaVersion: request.cudaVersion ?? existing?.cudaVersion ?? null,
      };
      const node = existing
        ? await tx.node.update({ where: { id: existing.id }, data: versions })
        : await tx.node.create({
            data: {
              clusterId: token.cluster_id,
              hostname: request.hostname,
              ipAddress: meta.ipAddress && isIP(meta.ipAddress) ? meta.ipAddress : null,
              ...versions,
            },
          });
      const replaced = await tx.nodeCredential.updateMany({ where: { nodeId: node.id, revokedAt: null }, data: { revokedAt: now } });
      const credential = newSecret(NODE_CREDENTIAL_PREFIX);
      const row = await tx.nodeCredential.create({
        data: { nodeId: node.id, tokenHash: hashSecret(credential), tokenPrefix: secretPrefix(credential), createdAt: now },
      });
      await tx.joinToken.update({ where: { id: token.id }, data: { usedAt: now, usedByNodeId: node.id } });
      await audit({
        action: 'node.enroll',
        targetType: 'node',
        targetId: node.id,
        before: existing
          ? {
              hostname: existing.hostname,
              agentVersion: existing.agentVersion,
              driverVersion: existing.driverVersion,
              cudaVersion: existing.cudaVersion,
            }
          : undefined,
        after: {
          hostname: node.hostname,
          clusterId: node.clusterId,
          created: !existing,
          joinTokenPrefix: token.token_prefix,
          credentialPrefix: row.tokenPrefix,
          credentialsRevoked: replaced.count,
          agentVersion: node.agentVersion,
          driverVersion: node.driverVersion,
          cudaVersion: node.cudaVersion,
        },
      });
      return { nodeId: node.id, clusterId: node.clusterId, credential, reportIntervalSeconds: node.reportIntervalSeconds };
    });
  } catch (e) {
    // Two different tokens enrolling the same new hostname at once: the loser may simply retry.
    if (isUniqueViolation(e))
      throw new AgentApiError('conflict', `Node ${request.hostname} was enrolled concurrently by another request; retry the enrollment.`);
    throw e;
  }
}
