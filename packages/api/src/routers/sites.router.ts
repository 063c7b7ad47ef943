import { ZCreateSiteInput, ZIdInput, ZUpdateSiteInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

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
