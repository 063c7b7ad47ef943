import { ZCreateUserInput, ZResetPasswordInput, ZSetUserDisabledInput, ZSetUserRoleInput, ZUserListInput } from '@fleetplane/contracts';
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
