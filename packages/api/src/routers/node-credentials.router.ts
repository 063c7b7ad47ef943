import { ZIdInput, ZNodeCredentialListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const nodeCredentialsRouter = router({
  list: procedure('operator')
    .input(ZNodeCredentialListInput)
    .query(({ ctx, input }) => svc.listNodeCredentials(ctx, input)),
  revoke: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.revokeNodeCredential(ctx, input.id)),
});
