import { ZCreateGpuInput, ZUpdateGpuInput, type TCreateGpuInput, type TUpdateGpuInput } from '@fleetplane/contracts';
import { GpuRepository, NodeRepository } from '@fleetplane/db';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, isUniqueViolation, notFound } from '../errors';

export async function getGpu(ctx: Pick<ServiceContext, 'prisma'>, id: string) {
  const gpu = await new GpuRepository(ctx.prisma).get(id);
  if (!gpu) throw notFound('GPU', id);
  return gpu;
}

export async function createGpu(ctx: ServiceContext, input: TCreateGpuInput) {
  const data = ZCreateGpuInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const repo = new GpuRepository(tx);
      if (!(await new NodeRepository(tx).get(data.nodeId))) throw invalid('Choose an existing node', 'nodeId');
      if (await repo.findByNodeIndex(data.nodeId, data.index))
        throw conflict(`This node already has a GPU at index ${data.index}`, 'index');
      const gpu = await repo.create(data);
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
    const repo = new GpuRepository(tx);
    const before = await repo.get(id);
    if (!before) throw notFound('GPU', id);
    const clash = await repo.findByNodeIndex(before.nodeId, data.index);
    if (clash && clash.id !== id) throw conflict(`This node already has a GPU at index ${data.index}`, 'index');
    const after = await repo.update(id, data);
    await audit({ action: 'gpu.update', targetType: 'gpu', targetId: id, before, after });
    return { id: after.id, uuid: after.uuid };
  });
}

export function deleteGpu(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const repo = new GpuRepository(tx);
    const before = await repo.get(id);
    if (!before) throw notFound('GPU', id);
    await repo.delete(id);
    await audit({ action: 'gpu.delete', targetType: 'gpu', targetId: id, before });
    return { id };
  });
}
