import {
  ZClusterListInput,
  ZCreateClusterInput,
  ZUpdateClusterInput,
  type TClusterListInput,
  type TCreateClusterInput,
  type TUpdateClusterInput,
} from '@fleetplane/contracts';
import { ClusterRepository, SiteRepository } from '@fleetplane/db';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, isUniqueViolation, notFound, precondition } from '../errors';
import { listClusterOverview } from './clusters.sql';

export async function listClusters(ctx: Pick<ServiceContext, 'prisma'>, input: TClusterListInput) {
  const q = ZClusterListInput.parse(input);
  const { items, total } = await listClusterOverview(ctx.prisma, {
    skip: (q.page - 1) * q.pageSize,
    take: q.pageSize,
    sortBy: q.sortBy,
    sortDir: q.sortDir,
    search: q.search || undefined,
    servingEngine: q.servingEngine,
  });
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function getCluster(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const cluster = await new ClusterRepository(ctx.prisma).get(id);
  if (!cluster) throw notFound('Cluster', id);
  const { items } = await listClusterOverview(ctx.prisma, { skip: 0, take: 1, sortBy: 'name', sortDir: 'asc', ids: [id] });
  return { ...cluster, gpuHourlyCostUsd: cluster.gpuHourlyCostUsd.toNumber(), summary: items[0]! };
}

export function clusterOptions(ctx: Pick<ServiceContext, 'prisma'>) {
  return new ClusterRepository(ctx.prisma).options();
}

function duplicateName(e: unknown, name: string) {
  if (isUniqueViolation(e)) return conflict(`A cluster named "${name}" already exists`, 'name');
  return e;
}

export async function createCluster(ctx: ServiceContext, input: TCreateClusterInput) {
  const data = ZCreateClusterInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      if (!(await new SiteRepository(tx).get(data.siteId))) throw invalid('Choose an existing site', 'siteId');
      const cluster = await new ClusterRepository(tx).create(data);
      await audit({ action: 'cluster.create', targetType: 'cluster', targetId: cluster.id, after: cluster });
      return { id: cluster.id, name: cluster.name };
    });
  } catch (e) {
    throw duplicateName(e, data.name);
  }
}

/** True when the endpoint URL changes while the stored API key reference would be kept as it is. */
export function endpointApiKeyMustDrop(
  before: { endpointUrl: string | null; endpointApiKeyRef: string | null },
  next: { endpointUrl: string | null; endpointApiKeyRef: string | null },
): boolean {
  return (
    before.endpointApiKeyRef !== null &&
    (before.endpointUrl ?? null) !== (next.endpointUrl ?? null) &&
    next.endpointApiKeyRef === before.endpointApiKeyRef
  );
}

export async function updateCluster(ctx: ServiceContext, input: TUpdateClusterInput) {
  const { id, data } = ZUpdateClusterInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const repo = new ClusterRepository(tx);
      const before = await repo.get(id);
      if (!before) throw notFound('Cluster', id);
      if (!(await new SiteRepository(tx).get(data.siteId))) throw invalid('Choose an existing site', 'siteId');
      // A stored API key never follows the endpoint to another server: pointing the cluster elsewhere
      // drops the key reference unless this same change names a different one.
      const endpointApiKeyDropped = endpointApiKeyMustDrop(before, data);
      const after = await repo.update(id, endpointApiKeyDropped ? { ...data, endpointApiKeyRef: null } : data);
      await audit({
        action: 'cluster.update',
        targetType: 'cluster',
        targetId: id,
        before,
        after: { ...after, ...(endpointApiKeyDropped ? { endpointApiKeyDropped } : {}) },
      });
      return { id: after.id, name: after.name, endpointApiKeyDropped };
    });
  } catch (e) {
    throw duplicateName(e, data.name);
  }
}

export function deleteCluster(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const repo = new ClusterRepository(tx);
    const before = await repo.get(id);
    if (!before) throw notFound('Cluster', id);
    const nodes = await repo.countNodes(id);
    if (nodes > 0) {
      throw precondition(
        `Cluster "${before.name}" still has ${nodes} node${nodes === 1 ? '' : 's'}. Delete or move its nodes before deleting the cluster.`,
      );
    }
    const repos = await tx.trackedRepoAutoStartTarget.findMany({
      where: { clusterId: id },
      select: { trackedRepo: { select: { hubRepoId: true } } },
    });
    if (repos.length > 0) {
      throw precondition(
        `Pipelines of ${repos.map((r) => r.trackedRepo.hubRepoId).join(', ')} start automatically for cluster "${before.name}". Remove it from their auto-start clusters first.`,
      );
    }
    await repo.delete(id);
    await audit({ action: 'cluster.delete', targetType: 'cluster', targetId: id, before });
    return { id };
  });
}
