import { ZCreateJoinTokenInput, ZIdInput, ZJoinTokenListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

// Enrollment is an operator's job: a join token admits a machine into a cluster, so viewers can
// neither mint nor see them.
export const joinTokensRouter = router({
  list: procedure('operator')
    .input(ZJoinTokenListInput)
    .query(({ ctx, input }) => svc.listJoinTokens(ctx, input)),
  create: procedure('operator')
    .input(ZCreateJoinTokenInput)
    .mutation(({ ctx, input }) => svc.createJoinToken(ctx, input)),
  revoke: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.revokeJoinToken(ctx, input.id)),
});
