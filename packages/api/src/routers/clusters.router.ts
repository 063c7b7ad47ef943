import { ZClusterListInput, ZCreateClusterInput, ZIdInput, ZUpdateClusterInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const clustersRouter = router({
  list: procedure('viewer')
    .input(ZClusterListInput)
    .query(({ ctx, input }) => svc.listClusters(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getCluster(ctx, input.id)),
  options: procedure('viewer').query(({ ctx }) => svc.clusterOptions(ctx)),
  create: procedure('operator')
    .input(ZCreateClusterInput)
    .mutation(({ ctx, input }) => svc.createCluster(ctx, input)),
  update: procedure('operator')
    .input(ZUpdateClusterInput)
    .mutation(({ ctx, input }) => svc.updateCluster(ctx, input)),
  delete: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteCluster(ctx, input.id)),
});
