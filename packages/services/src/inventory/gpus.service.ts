import { ZCreateGpuInput, ZUpdateGpuInput, type TCreateGpuInput, type TUpdateGpuInput } from '@fleetplane/contracts';
import { NodeRepository, type Db } from '@fleetplane/db';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, isUniqueViolation, notFound } from '../errors';

// The GPU page's and the audit record's view of a GPU: the row with its node and cluster names.
function findGpu(db: Db, id: string) {
  return db.gpu.findUnique({
    where: { id },
    include: { node: { select: { id: true, hostname: true, clusterId: true, cluster: { select: { name: true } } } } },
  });
}

function gpuAtIndex(db: Db, nodeId: string, index: number) {
  return db.gpu.findFirst({ where: { nodeId, index } });
}

export async function getGpu(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const gpu = await findGpu(ctx.prisma, id);
  if (!gpu) throw notFound('GPU', id);
  return gpu;
}

export async function createGpu(ctx: ServiceContext, input: TCreateGpuInput) {
  const data = ZCreateGpuInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      if (!(await new NodeRepository(tx).get(data.nodeId))) throw invalid('Choose an existing node', 'nodeId');
      if (await gpuAtIndex(tx, data.nodeId, data.index)) throw conflict(`This node already has a GPU at index ${data.index}`, 'index');
      const gpu = await tx.gpu.create({ data });
      await audit({ action: 'gpu.create', targetType: 'gpu', targetId: gpu.id, after: gpu });
      return { id: gpu.id, uuid: gpu.uuid };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A GPU with UUID ${data.uuid} is already registered`, 'uuid');
    throw e;
  }
}

export async function updateGpu(ctx: ServiceContext, input: TUpdateGpuInput) {
  const { id, data } = ZUpdateGpuInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await findGpu(tx, id);
    if (!before) throw notFound('GPU', id);
    const clash = await gpuAtIndex(tx, before.nodeId, data.index);
    if (clash && clash.id !== id) throw conflict(`This node already has a GPU at index ${data.index}`, 'index');
    const after = await tx.gpu.update({ where: { id }, data });
    await audit({ action: 'gpu.update', targetType: 'gpu', targetId: id, before, after });
    return { id: after.id, uuid: after.uuid };
  });
}

export function deleteGpu(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await findGpu(tx, id);
    if (!before) throw notFound('GPU', id);
    await tx.gpu.delete({ where: { id } });
    await audit({ action: 'gpu.delete', targetType: 'gpu', targetId: id, before });
    return { id };
  });
}
