import { ZIdInput, ZStartValidationRunInput, ZValidationRunListInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const validationRunsRouter = router({
  list: procedure('viewer')
    .input(ZValidationRunListInput)
    .query(({ ctx, input }) => svc.listValidationRuns(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getValidationRun(ctx, input.id)),
  evidence: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getValidationEvidence(ctx, input.id)),
  compare: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.compareValidationRun(ctx, input.id)),
  start: procedure('operator')
    .input(ZStartValidationRunInput)
    .mutation(({ ctx, input }) => svc.startValidationRun(ctx, input)),
  cancel: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.cancelValidationRun(ctx, input)),
});
