import { ZCreateTrackedRepoInput, ZIdInput, ZRevisionListInput, ZUpdateTrackedRepoInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** The Models page: model families, the tracked upstream repos and their revisions. */
export const modelsRouter = router({
  families: procedure('viewer').query(({ ctx }) => svc.listModelFamilies(ctx)),
  listRepos: procedure('viewer').query(({ ctx }) => svc.listTrackedRepos(ctx)),
  getRepo: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getTrackedRepo(ctx, input.id)),
  createRepo: procedure('operator')
    .input(ZCreateTrackedRepoInput)
    .mutation(({ ctx, input }) => svc.createTrackedRepo(ctx, input)),
  updateRepo: procedure('operator')
    .input(ZUpdateTrackedRepoInput)
    .mutation(({ ctx, input }) => svc.updateTrackedRepo(ctx, input)),
  deleteRepo: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteTrackedRepo(ctx, input.id)),
  checkNow: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.checkTrackedRepoNow(ctx, input.id)),
  revisions: procedure('viewer')
    .input(ZRevisionListInput)
    .query(({ ctx, input }) => svc.listRevisions(ctx, input)),
  revision: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getRevision(ctx, input.id)),
});
