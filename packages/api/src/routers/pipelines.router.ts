import { z } from 'zod';
import { ZIdInput, ZRetryStepInput, ZRunListInput, ZStartPipelineInput } from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const pipelinesRouter = router({
  list: procedure('viewer')
    .input(ZRunListInput)
    .query(({ ctx, input }) => svc.listRuns(ctx, input)),
  get: procedure('viewer')
    .input(ZIdInput.extend({ logLimit: z.number().int().min(1).max(2000).optional() }))
    .query(({ ctx, input }) => svc.getRun(ctx, input.id, { logLimit: input.logLimit })),
  start: procedure('operator')
    .input(ZStartPipelineInput)
    .mutation(({ ctx, input }) => svc.startPipeline(ctx, input)),
  cancel: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.cancelRun(ctx, input.id)),
  retry: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.retryRun(ctx, input.id)),
  retryStep: procedure('operator')
    .input(ZRetryStepInput)
    .mutation(({ ctx, input }) => svc.retryStep(ctx, input.stepId)),
});
