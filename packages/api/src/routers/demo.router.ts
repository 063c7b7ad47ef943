import { ZPublishDemoRevisionInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** The dev panel of demo installs: publish a new upstream revision to the demo Hub. */
export const demoRouter = router({
  status: procedure('viewer').query(() => ({ enabled: svc.demoPanelEnabled() })),
  publishRevision: procedure('operator')
    .input(ZPublishDemoRevisionInput)
    .mutation(({ ctx, input }) => svc.publishDemoRevision(ctx, input)),
});
