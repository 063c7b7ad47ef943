import { ZCancelNodeCommandInput, ZIssueEngineCommandInput, ZNodeCommandListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

/** Commands to nodes: the history (with live progress) and what an operator may do by hand. */
export const nodeCommandsRouter = router({
  list: procedure('viewer')
    .input(ZNodeCommandListInput)
    .query(({ ctx, input }) => svc.listNodeCommands(ctx.prisma, input)),
  cancel: procedure('operator')
    .input(ZCancelNodeCommandInput)
    .mutation(({ ctx, input }) => svc.cancelNodeCommand(ctx, input.id)),
  issueEngineCommand: procedure('operator')
    .input(ZIssueEngineCommandInput)
    .mutation(({ ctx, input }) => svc.issueEngineCommand(ctx, input)),
});
