import {
  ZAuditListInput,
  ZUpdateNetworkPolicyInput,
  ZCreateUserInput,
  ZResetPasswordInput,
  ZSetUserDisabledInput,
  ZSetUserRoleInput,
  ZUserListInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const usersRouter = router({
  list: procedure('admin')
    .input(ZUserListInput)
    .query(({ ctx, input }) => svc.listUsers(ctx, input)),
  create: procedure('admin')
    .input(ZCreateUserInput)
    .mutation(({ ctx, input }) => svc.createUser(ctx, input, ctx.hashPassword)),
  setRole: procedure('admin')
    .input(ZSetUserRoleInput)
    .mutation(({ ctx, input }) => svc.setUserRole(ctx, input)),
  setDisabled: procedure('admin')
    .input(ZSetUserDisabledInput)
    .mutation(({ ctx, input }) => svc.setUserDisabled(ctx, input)),
  resetPassword: procedure('admin')
    .input(ZResetPasswordInput)
    .mutation(({ ctx, input }) => svc.resetUserPassword(ctx, input, ctx.hashPassword)),
});

export const auditRouter = router({
  list: procedure('admin')
    .input(ZAuditListInput)
    .query(({ ctx, input }) => svc.listAuditEvents(ctx, input)),
  facets: procedure('admin').query(({ ctx }) => svc.auditFacets(ctx)),
});

/** The outgoing-request network policy's admin setting (see @fleetplane/net). Admins only; changes are audited. */
export const networkPolicyRouter = router({
  get: procedure('admin').query(({ ctx }) => svc.getNetworkPolicySetting(ctx)),
  update: procedure('admin')
    .input(ZUpdateNetworkPolicyInput)
    .mutation(({ ctx, input }) => svc.updateNetworkPolicySetting(ctx, input)),
});

export const meRouter = router({
  get: procedure('viewer').query(({ ctx }) => ctx.user),
});
