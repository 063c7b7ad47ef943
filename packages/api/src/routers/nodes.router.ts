import { ZCreateNodeInput, ZIdInput, ZNodeListInput, ZUpdateNodeInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

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
