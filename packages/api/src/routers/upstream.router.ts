import { z } from 'zod';
import {
  ZCreateTrackedRepoInput,
  ZIdInput,
  ZPublishDemoRevisionInput,
  ZRetryStepInput,
  ZRevisionListInput,
  ZRunListInput,
  ZStartPipelineInput,
  ZUpdateTrackedRepoInput,
} from '@fleetplane/contracts';
import * as svc from '@fleetplane/services';
import { procedure, router } from '../trpc';

export const modelsRouter = router({
  families: procedure('viewer').query(({ ctx }) => svc.listModelFamilies(ctx)),
});

export const upstreamRouter = router({
  listRepos: procedure('viewer').query(({ ctx }) => svc.listTrackedRepos(ctx)),
  getRepo: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getTrackedRepo(ctx, input.id)),
  createRepo: procedure('operator')
    .input(ZCreateTrackedRepoInput)
    .mutation(({ ctx, input }) => svc.createTrackedRepo(ctx, input)),
  updateRepo: procedure('operator')
    .input(ZUpdateTrackedRepoInput)
    .mutation(({ ctx, input }) => svc.updateTrackedRepo(ctx, input)),
  deleteRepo: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.deleteTrackedRepo(ctx, input.id)),
  checkNow: procedure('operator')
    .input(ZIdInput)
    .mutation(({ ctx, input }) => svc.checkTrackedRepoNow(ctx, input.id)),
  revisions: procedure('viewer')
    .input(ZRevisionListInput)
    .query(({ ctx, input }) => svc.listRevisions(ctx, input)),
  revision: procedure('viewer')
    .input(ZIdInput)
    .query(({ ctx, input }) => svc.getRevision(ctx, input.id)),
});

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

/** The dev panel of demo installs: publish a new upstream revision to the demo Hub. */
export const demoRouter = router({
  status: procedure('viewer').query(() => ({ enabled: svc.demoPanelEnabled() })),
  publishRevision: procedure('operator')
    .input(ZPublishDemoRevisionInput)
    .mutation(({ ctx, input }) => svc.publishDemoRevision(ctx, input)),
});
