import { ZClusterCostInput, ZCompatibilityForClusterInput, ZCompatibilityForRevisionInput, ZPlanInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const capacityRouter = router({
  plannerOptions: procedure('viewer').query(({ ctx }) => svc.plannerOptions(ctx)),
  plan: procedure('viewer')
    .input(ZPlanInput)
    .query(({ ctx, input }) => svc.planCapacity(ctx, input)),
  clusterCompatibility: procedure('viewer')
    .input(ZCompatibilityForClusterInput)
    .query(({ ctx, input }) => svc.compatibilityForCluster(ctx, input.clusterId)),
  revisionCompatibility: procedure('viewer')
    .input(ZCompatibilityForRevisionInput)
    .query(({ ctx, input }) => svc.compatibilityForRevision(ctx, input.revisionId)),
  cost: procedure('viewer')
    .input(ZClusterCostInput)
    .query(({ ctx, input }) => svc.clusterCost(ctx, input)),
});
