import { ZCreateGpuInput, ZIdInput, ZUpdateGpuInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const gpusRouter = router({
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getGpu(ctx, input.id)),
  create: procedure('operator')
    .input(ZCreateGpuInput)
    .mutation(({ ctx, input }) => svc.createGpu(ctx, input)),
  update: procedure('operator')
    .input(ZUpdateGpuInput)
    .mutation(({ ctx, input }) => svc.updateGpu(ctx, input)),
  delete: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteGpu(ctx, input.id)),
});
