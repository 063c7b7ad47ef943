import { ZAuditListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const auditRouter = router({
  list: procedure('admin')
    .input(ZAuditListInput)
    .query(({ ctx, input }) => svc.listAuditEvents(ctx, input)),
  facets: procedure('admin').query(({ ctx }) => svc.auditFacets(ctx)),
});
