import { ZAcknowledgeAlertInput, ZAlertListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const alertsRouter = router({
  list: procedure('viewer')
    .input(ZAlertListInput)
    .query(({ ctx, input }) => svc.listAlerts(ctx, input)),
  counts: procedure('viewer').query(({ ctx }) => svc.alertCounts(ctx)),
  acknowledge: procedure('operator')
    .input(ZAcknowledgeAlertInput)
    .mutation(({ ctx, input }) => svc.acknowledgeAlert(ctx, input.id)),
});
