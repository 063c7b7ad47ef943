import { ZClusterGridInput, ZGpuSeriesInput, ZIdInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const fleetHealthRouter = router({
  utilisation: procedure('viewer').query(({ ctx }) => svc.fleetUtilisation(ctx)),
  clusterGrid: procedure('viewer')
    .input(ZClusterGridInput)
    .query(({ ctx, input }) => svc.clusterGpuGrid(ctx, input)),
  gpu: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.gpuHealthDetail(ctx, input.id)),
  gpuSeries: procedure('viewer')
    .input(ZGpuSeriesInput)
    .query(({ ctx, input }) => svc.gpuSeries(ctx, input)),
});
