import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const fleetRouter = router({
  summary: procedure('viewer').query(({ ctx }) => svc.fleetSummary(ctx)),
});
