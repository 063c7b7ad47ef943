import {
  ZClusterHistoryInput,
  ZIdInput,
  ZNodeProvenanceInput,
  ZRollbackToDeploymentInput,
  ZRolloutActionInput,
  ZRolloutListInput,
  ZStartRolloutInput,
  ZUpdateRolloutPolicyInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { z } from 'zod';
import { procedure, router } from '../trpc';

export const rolloutsRouter = router({
  list: procedure('viewer')
    .input(ZRolloutListInput)
    .query(({ ctx, input }) => svc.listRollouts(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getRollout(ctx, input.id)),
  history: procedure('viewer')
    .input(ZClusterHistoryInput)
    .query(({ ctx, input }) => svc.clusterDeploymentHistory(ctx, input)),
  provenance: procedure('viewer')
    .input(ZNodeProvenanceInput)
    .query(({ ctx, input }) => svc.nodeProvenance(ctx, input.nodeId)),
  policy: procedure('viewer')
    .input(z.object({ clusterId: ZIdInput.shape.id }))
    .query(({ ctx, input }) => svc.getRolloutPolicy(ctx, input.clusterId)),
  start: procedure('operator')
    .input(ZStartRolloutInput)
    .mutation(({ ctx, input }) => svc.startRollout(ctx, input)),
  rollback: procedure('operator')
    .input(ZRollbackToDeploymentInput)
    .mutation(({ ctx, input }) => svc.rollbackToDeployment(ctx, input)),
  pause: procedure('operator')
    .input(ZRolloutActionInput)
    .mutation(({ ctx, input }) => svc.actOnRollout(ctx, 'pause', input)),
  resume: procedure('operator')
    .input(ZRolloutActionInput)
    .mutation(({ ctx, input }) => svc.actOnRollout(ctx, 'resume', input)),
  promote: procedure('operator')
    .input(ZRolloutActionInput)
    .mutation(({ ctx, input }) => svc.actOnRollout(ctx, 'promote', input)),
  abort: procedure('operator')
    .input(ZRolloutActionInput)
    .mutation(({ ctx, input }) => svc.actOnRollout(ctx, 'abort', input)),
  updatePolicy: procedure('operator')
    .input(ZUpdateRolloutPolicyInput)
    .mutation(({ ctx, input }) => svc.updateRolloutPolicy(ctx, input)),
});
