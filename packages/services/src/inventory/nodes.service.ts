import { ZCreateNodeInput, ZNodeListInput, ZUpdateNodeInput, type TCreateNodeInput, type TUpdateNodeInput } from '@fleetplane/contracts';
import { ClusterRepository, NodeRepository } from '@fleetplane/db';
import type { z } from 'zod';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, isUniqueViolation, notFound } from '../errors';

export async function listNodes(ctx: Pick<ServiceContext, 'prisma'>, input: z.input<typeof ZNodeListInput>) {
  const q = ZNodeListInput.parse(input);
  const { items, total } = await new NodeRepository(ctx.prisma).list({
    clusterId: q.clusterId,
    skip: (q.page - 1) * q.pageSize,
    take: q.pageSize,
    sortBy: q.sortBy,
    sortDir: q.sortDir,
    search: q.search || undefined,
  });
  return { items, total, page: q.page, pageSize: q.pageSize };
}

export async function getNode(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const node = await new NodeRepository(ctx.prisma).get(id);
  if (!node) throw notFound('Node', id);
  return node;
}

export async function createNode(ctx: ServiceContext, input: TCreateNodeInput) {
  const data = ZCreateNodeInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      if (!(await new ClusterRepository(tx).get(data.clusterId))) throw invalid('Choose an existing cluster', 'clusterId');
      const node = await new NodeRepository(tx).create(data);
      await audit({ action: 'node.create', targetType: 'node', targetId: node.id, after: node });
      return { id: node.id, hostname: node.hostname };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`This cluster already has a node named "${data.hostname}"`, 'hostname');
    throw e;
  }
}

export async function updateNode(ctx: ServiceContext, input: TUpdateNodeInput) {
  const { id, data } = ZUpdateNodeInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const repo = new NodeRepository(tx);
      const before = await repo.get(id);
      if (!before) throw notFound('Node', id);
      const after = await repo.update(id, data);
      await audit({ action: 'node.update', targetType: 'node', targetId: id, before: { ...before, gpus: undefined }, after });
      return { id: after.id, hostname: after.hostname };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`This cluster already has a node named "${data.hostname}"`, 'hostname');
    throw e;
  }
}

/** Deleting a node removes its GPUs and their telemetry with it, in one transaction. */
export function deleteNode(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const repo = new NodeRepository(tx);
    const before = await repo.get(id);
    if (!before) throw notFound('Node', id);
    const { gpusDeleted } = await repo.deleteWithGpus(id);
    await audit({ action: 'node.delete', targetType: 'node', targetId: id, before: { ...before, gpus: before.gpus.map((g) => g.uuid) } });
    return { id, gpusDeleted };
  });
}
