import { ZUpdateNetworkPolicyInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** The outgoing-request network policy's admin setting (see @fleetplane/net). Admins only; changes are audited. */
export const networkPolicyRouter = router({
  get: procedure('admin').query(({ ctx }) => svc.getNetworkPolicySetting(ctx)),
  update: procedure('admin')
    .input(ZUpdateNetworkPolicyInput)
    .mutation(({ ctx, input }) => svc.updateNetworkPolicySetting(ctx, input)),
});
