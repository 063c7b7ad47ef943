import {
  ZClusterListInput,
  ZCreateClusterInput,
  ZCreateGpuInput,
  ZCreateNodeInput,
  ZCreateSiteInput,
  ZIdInput,
  ZNodeListInput,
  ZUpdateClusterInput,
  ZUpdateGpuInput,
  ZUpdateNodeInput,
  ZUpdateSiteInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const fleetRouter = router({
  summary: procedure('viewer').query(({ ctx }) => svc.fleetSummary(ctx)),
});

export const sitesRouter = router({
  list: procedure('viewer').query(({ ctx }) => svc.listSites(ctx)),
  create: procedure('operator')
    .input(ZCreateSiteInput)
    .mutation(({ ctx, input }) => svc.createSite(ctx, input)),
  update: procedure('operator')
    .input(ZUpdateSiteInput)
    .mutation(({ ctx, input }) => svc.updateSite(ctx, input)),
  delete: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteSite(ctx, input.id)),
});

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

export const nodesRouter = router({
  list: procedure('viewer')
    .input(ZNodeListInput)
    .query(({ ctx, input }) => svc.listNodes(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getNode(ctx, input.id)),
  create: procedure('operator')
    .input(ZCreateNodeInput)
    .mutation(({ ctx, input }) => svc.createNode(ctx, input)),
  update: procedure('operator')
    .input(ZUpdateNodeInput)
    .mutation(({ ctx, input }) => svc.updateNode(ctx, input)),
  delete: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteNode(ctx, input.id)),
});

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
